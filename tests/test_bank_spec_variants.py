"""The bank's generated answers: every variant of every answer the sandbox serves.

The generator (``portal_bank.spec_variants``) is the bank's ``Specification``: it must keep
every answer valid by the written-down rules (``portal_bank.spec_check``) and change it in
every place the variant allows, not in a sample. The answers are the real ones: the sandbox
on a socket, read by the plugin's own sync (and the two resources it never asks for).
"""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from portal.specvariants import (
    EMPTY_ARRAYS,
    GENERATED,
    OPTIONAL_ABSENT,
    OTHER_CURRENCY,
    UNKNOWN_CODES,
    UNKNOWN_FIELDS,
    declared_specification,
)
from portal_bank import spec_check
from portal_bank.plugin import PROVIDER
from portal_bank.spec_rules import Rule
from portal_bank.spec_variants import (
    SPECIFICATION,
    UNKNOWN_CODE,
    UNKNOWN_FIELD,
    OpenBankingSpecification,
)
from test_bank_spec import Synced, _every_answer, synced_against

Answer = tuple[str, Any]


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Answer]]:
    """Every JSON answer of the usual sandbox to one sync, and the resources it never reads."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAL_VAULT", "file")
        synced: Synced
        with synced_against("standard", tmp_path_factory.mktemp("standard")) as synced:
            yield _every_answer(synced)


def _varied(variant: str, path: str, body: Any) -> tuple[Any, int]:
    varied = SPECIFICATION.vary(variant, path, "application/json", json.dumps(body).encode())
    assert varied is not None, path
    return json.loads(varied.body), varied.changes


def _items(path: str, body: Any) -> list[tuple[Rule, Any]]:
    """(rule, item) of each item of an answer, where ``spec_check`` says the items are."""
    found = spec_check.endpoint(path)
    assert found is not None, path
    endpoint = found[1]
    if endpoint.key is None:
        return [(endpoint.item, body["Data"])]
    held = body["Data"].get(endpoint.key, [])
    return [(endpoint.item, item) for item in ([held] if endpoint.single else held)]


def _walk(rule: Rule, value: Any, visit: Callable[[Rule, Any, str], None], where: str) -> None:
    """Call ``visit(rule, value, where)`` for ``value`` and everything the rules describe in it."""
    visit(rule, value, where)
    if rule.kind == "object" and isinstance(value, dict):
        for name, inner in value.items():
            if name in rule.fields:
                _walk(rule.fields[name], inner, visit, f"{where}.{name}")
    elif rule.kind == "array" and isinstance(value, list) and rule.items is not None:
        for n, element in enumerate(value):
            _walk(rule.items, element, visit, f"{where}[{n}]")


def _every(answers: list[Answer], variant: str, visit: Callable[[Rule, Any, str], None]) -> int:
    """Vary every answer, walk every item of it with ``visit``; return the changes made."""
    total = 0
    for path, body in answers:
        varied, changes = _varied(variant, path, body)
        total += changes
        for rule, item in _items(path, varied):
            _walk(rule, item, visit, path)
    return total


def test_the_bank_declares_the_specification_and_every_variant_portal_generates() -> None:
    assert declared_specification(PROVIDER) is SPECIFICATION
    assert isinstance(SPECIFICATION, OpenBankingSpecification)
    assert set(SPECIFICATION.variants) == set(GENERATED)
    assert "account-info-openapi.yaml" in SPECIFICATION.source


@pytest.mark.parametrize("variant", sorted(GENERATED))
def test_every_generated_answer_still_follows_the_specification(
    answers: list[Answer], variant: str
) -> None:
    assert {spec_check.endpoint(p)[0] for p, _ in answers} >= {"/accounts", "/party"}  # type: ignore[index]
    problems = []
    for path, body in answers:
        varied, _ = _varied(variant, path, body)
        problems += [(path, p) for p in spec_check.response_problems(path, varied)]
    assert problems == []


def test_optional_absent_leaves_out_every_optional_field_at_every_depth(
    answers: list[Answer],
) -> None:
    left: list[str] = []

    def visit(rule: Rule, value: Any, where: str) -> None:
        if rule.kind == "object" and isinstance(value, dict):
            left.extend(
                f"{where}.{k}" for k in value if k in rule.fields and not rule.fields[k].required
            )

    assert _every(answers, OPTIONAL_ABSENT, visit) > 1000
    assert left == []


def test_empty_arrays_serves_every_optional_array_empty(answers: list[Answer]) -> None:
    filled: list[str] = []

    def visit(rule: Rule, value: Any, where: str) -> None:
        if rule.kind == "object" and isinstance(value, dict):
            for name, inner in value.items():
                inner_rule = rule.fields.get(name)
                if inner_rule and inner_rule.kind == "array" and not inner_rule.required and inner:
                    filled.append(f"{where}.{name}")

    assert _every(answers, EMPTY_ARRAYS, visit) > 0
    assert filled == []


def test_unknown_codes_puts_an_unlisted_code_in_every_open_code_list(
    answers: list[Answer],
) -> None:
    codes: list[str] = []

    def visit(rule: Rule, value: Any, where: str) -> None:
        if rule.kind == "namespaced":
            codes.append(value)

    assert _every(answers, UNKNOWN_CODES, visit) == len(codes) > 100
    # A four-character merchant category code gets four digits no list assigns.
    assert set(codes) == {UNKNOWN_CODE, "9999"}


def test_unknown_fields_adds_a_field_to_every_object_that_is_not_closed(
    answers: list[Answer],
) -> None:
    objects: list[bool] = []

    def visit(rule: Rule, value: Any, where: str) -> None:
        if rule.kind == "object" and isinstance(value, dict):
            objects.append(UNKNOWN_FIELD in value)

    assert _every(answers, UNKNOWN_FIELDS, visit) == len(objects) > 100
    assert all(objects)
    # The envelope is closed (and its links drive paging): it is served as it is.
    path, body = answers[0]
    varied, _ = _varied(UNKNOWN_FIELDS, path, body)
    assert varied["Links"] == body["Links"] and varied["Meta"] == body["Meta"]


def test_other_currency_changes_every_currency(answers: list[Answer]) -> None:
    def currencies(variant: str | None) -> list[str]:
        found: list[str] = []

        def visit(rule: Rule, value: Any, where: str) -> None:
            if rule.kind == "currency":
                found.append(value)

        for path, body in answers:
            served = _varied(variant, path, body)[0] if variant else body
            for rule, item in _items(path, served):
                _walk(rule, item, visit, path)
        return found

    before, after = currencies(None), currencies(OTHER_CURRENCY)
    assert len(before) == len(after) > 100
    assert all(a != b for a, b in zip(before, after, strict=True))


def test_a_statement_file_or_an_unknown_resource_is_served_as_it_is() -> None:
    pdf = b"%PDF-1.4 ..."
    assert (
        SPECIFICATION.vary(
            OPTIONAL_ABSENT, "/accounts/A1/statements/S1/file", "application/pdf", pdf
        )
        is None
    )
    assert SPECIFICATION.vary(OPTIONAL_ABSENT, "/somewhere/else", "application/json", b"{}") is None
    assert SPECIFICATION.problems("/somewhere/else", "application/json", b"{}") == []
