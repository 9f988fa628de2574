"""The record model reference, ``docs/record-model.md``: generated from the model, current,
the same bytes on every run, and complete (every entity, value object, field, vocabulary
code and understanding table, with its words), so a plugin author need not read the source."""

import os
import re
import subprocess
import sys
import types
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

import pytest
from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from portal.record import reference, vocab
from portal.record.model import ENTITIES, Entity
from portal.record.tables import TABLES

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "record-model.md"


def sections(page: str) -> dict[str, str]:
    """Each ``###`` section of the page by its heading."""
    parts = re.split(r"^### (.+)$", page, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def rows(section: str) -> dict[str, list[str]]:
    """The rows of a section's first table, by their first cell without its backticks."""
    found = {}
    table = section.split("\n|", 1)[1].split("\n\n", 1)[0]
    for line in ("|" + table).splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if cells and cells[0].startswith("`"):
            found[cells[0].strip("`")] = cells[1:]
    return found


def test_the_committed_reference_is_the_one_the_model_generates() -> None:
    committed = PAGE.read_text(encoding="utf-8")
    assert committed == reference.render(), (
        "docs/record-model.md is not what the model says now. Regenerate it with"
        f" `{reference.COMMAND}` and commit it."
    )


def test_the_module_entry_writes_the_same_bytes_whatever_the_hash_seed_and_locale() -> None:
    outputs = set()
    for seed, locale in (("1", "C"), ("2", "C.UTF-8")):
        env = {**os.environ, "PYTHONHASHSEED": seed, "LC_ALL": locale, "TZ": "Asia/Tokyo"}
        done = subprocess.run(
            [sys.executable, "-m", "portal.record.reference"],
            capture_output=True,
            env=env,
            check=True,
        )
        outputs.add(done.stdout)
    assert outputs == {reference.render().encode("utf-8")}


def test_every_entity_and_value_object_has_every_field_with_its_title_type_and_words() -> None:
    page = sections(reference.render())
    shared = Entity.model_fields  # the provenance fields
    models: list[type[BaseModel]] = [*ENTITIES, *reference._nested()]
    assert {m.__name__ for m in reference._nested()} >= {
        "Address",
        "AccountIdentifier",
        "Price",
        "PurchaseLine",
        "BillLine",
        "Recipient",
    }
    for model in models:
        table = rows(page[model.__name__])
        for name, info in model.model_fields.items():
            if model in ENTITIES and name in shared and info.default == shared[name].default:
                assert name not in table, f"{model.__name__}.{name}: listed once, in Provenance"
                continue
            title, kind, required, description = table[name]
            assert (title, description) == (info.title, info.description), (model, name)
            assert kind, (model, name)
            assert (required == "yes") if info.is_required() else required.startswith("no")
    provenance = rows(reference.render().split("## Provenance", 1)[1].split("## Entities")[0])
    assert set(provenance) == set(shared)


def test_each_entity_names_its_category_and_its_table() -> None:
    page = sections(reference.render())
    for entity in ENTITIES:
        label = vocab.CATEGORY_LABELS[entity.category]
        table = TABLES[entity].__tablename__  # type: ignore[attr-defined]
        assert (
            f"Category `{entity.category.value}` ({label}); table `{table}`."
            in page[entity.__name__]
        )


@pytest.mark.parametrize(
    ("field", "words"),
    [
        ("Transaction.amount", "[Money](#money)"),
        ("Transaction.balance_after", "[Money](#money), or empty"),
        ("Transaction.booked_at", "[Timestamp](#timestamp)"),
        ("Transaction.currency", "[Currency](#currency)"),
        ("Transaction.state", "[State](#state) code, or empty"),
        ("Usage.unit", "[Unit](#unit) code"),
        ("Usage.quantity", "[Quantity](#quantity)"),
        ("Usage.country", "[Country](#country), or empty"),
        ("Usage.roaming", "true or false, or empty"),
        ("Bill.lines", "list of [BillLine](#billline)"),
        ("Bill.issued_on", "date"),
        ("Document.digest", "[Digest](#digest)"),
        ("Document.size_bytes", "integer, or empty"),
        ("Processing.data_categories", "list of string"),
        ("Address.lines", "list of [Text](#text)"),
    ],
)
def test_a_fields_type_is_named_in_the_records_own_terms(field: str, words: str) -> None:
    model, name = field.split(".")
    assert rows(sections(reference.render())[model])[name][1] == words


def test_every_vocabulary_lists_every_code_with_its_label() -> None:
    page = sections(reference.render())
    found = reference._vocabularies()
    assert {enum for enum, _ in found} >= {
        vocab.Origin,
        vocab.Sector,
        vocab.Category,
        vocab.Unit,
        vocab.State,
        vocab.Standing,
    }
    for enum, labels in found:
        table = rows(page[enum.__name__])
        assert list(table) == [member.value for member in enum], enum
        for member in enum:
            assert labels.get(member), f"{enum.__name__}.{member.name} has no label"
            assert table[member.value][0] == labels[member]
    states = rows(page["State"])
    assert states["unknown"] == [
        "Not stated",
        "The provider states no status, or one with no meaning here: a deliberate choice the"
        " conformance report counts, never a default.",
    ]


def test_every_link_in_the_reference_leads_somewhere() -> None:
    page = reference.render()
    headings = {
        re.sub(r"[^a-z0-9 _-]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", page, flags=re.M)
    }
    links = re.findall(r"\]\(([^)]+)\)", page)
    assert links
    for link in links:
        if link.startswith("#"):
            assert link[1:] in headings, link
        else:
            assert (PAGE.parent / link).is_file(), link


def test_every_understanding_table_is_in_the_reference() -> None:
    from portal.understand import tables as understanding

    page = sections(reference.render())
    assert "understood" in page
    assert rows(page["understood"])["through"][0] == "[Timestamp](#timestamp)"
    defined = [
        v.__tablename__
        for v in vars(understanding).values()
        if isinstance(v, type)
        and hasattr(v, "__table__")
        and v.__module__ == understanding.__name__
    ]
    assert defined and all(name in page for name in defined)


def test_a_table_a_step_adds_appears_when_the_reference_is_generated() -> None:
    module = types.ModuleType("portal.understand.example")

    class Rule(StrEnum):
        mcc = "mcc"
        person = "person"

    class Categorised(SQLModel, table=True):
        """The spending category each transaction falls in, and the rule that said so."""

        __tablename__ = "reference_example_categorised"
        __module__ = module.__name__

        transaction_id: str = Field(primary_key=True, description="The transaction's portal id.")
        category: str = Field(description="The spending category.")
        rule: Rule = Field(description="What decided it.")
        confidence: float = Field(description="How sure.")
        amount: Decimal | None = Field(default=None, description="The amount it counts.")

    class Undocumented(SQLModel, table=True):
        __tablename__ = "reference_example_undocumented"
        __module__ = module.__name__

        step: str = Field(primary_key=True)

    module.Categorised = Categorised  # type: ignore[attr-defined]
    module.Undocumented = Undocumented  # type: ignore[attr-defined]
    try:
        text = "\n".join(reference.table_sections(module))
    finally:
        SQLModel.metadata.remove(Categorised.__table__)  # type: ignore[attr-defined]
        SQLModel.metadata.remove(Undocumented.__table__)  # type: ignore[attr-defined]
    bare = sections(text)["reference_example_undocumented"]
    assert rows(bare) == {"step": ["string", "yes"]}  # its own words only: none, not pydantic's
    assert "pydantic" not in bare.lower()
    section = sections(text)["reference_example_categorised"]
    assert "The spending category each transaction falls in" in section
    assert "Key: `transaction_id`." in section
    assert rows(section) == {
        "transaction_id": ["string", "yes", "The transaction's portal id."],
        "category": ["string", "yes", "The spending category."],
        # Types the page has no section for are said in words, never linked nowhere.
        "rule": ["code: `mcc`, `person`", "yes", "What decided it."],
        "confidence": ["float", "yes", "How sure."],
        "amount": ["decimal, or empty", "no", "The amount it counts."],
    }
