"""What counts as a code, and when a label is only its code again (DESIGN §3).

Two rules, written down so a plugin author can predict the verdict:

- **A label that is its code respelled is not a label.** Both are cut into words (a
  CamelCase hump, a run of digits, or anything between the separators ``_ - . / :`` and
  spaces starts a new word) and case-folded; a dotted namespace in front (``UK.OBIE.``)
  may be dropped from either. A label giving the same words as its code fails when it is
  still written as an identifier, with no space: a code of two words or more in any case
  or separator style (``InterimAvailable`` labelled ``InterimAvailable``,
  ``interim_available``, ``INTERIM-AVAILABLE``, ``interim.available`` or
  ``UK.OBIE.InterimAvailable``; ``UK.OBIE.SortCodeAccountNumber`` labelled
  ``SortCodeAccountNumber``), a label that is the code behind a namespace (``Booked``
  labelled ``UK.OBIE.Booked``), or a label identical to a code that looks like one (all
  capitals, digits, dots: ``ATM`` labelled ``ATM``). A label written as words passes
  even when they are the code's words (``CurrentAccount`` labelled ``Current account``,
  ``active`` labelled ``Active``), and so does a single word that is how a person knows
  it (``UK.OBIE.IBAN`` labelled ``IBAN``): that is what a person reads, and no rule can
  tell a plain name from jargon; the report's reader judges the words.
- **A provider code kept in ``extra`` needs a label like a field does.** A string value
  in ``extra`` (at any depth) is a code when its key names a code (it ends in ``Type``,
  ``Code``, ``Status``, ``SchemeName``, ``Frequency`` or ``Kind``, in any case or
  separator style: ``FeeType``, ``status``, ``reason_code``) and the value looks like an
  identifier rather than words: CamelCase with two humps or more (``InterimAvailable``),
  UPPER_SNAKE with an underscore (``DIRECT_DEBIT``), or dotted (``UK.OBIE.IBAN``). Its
  label is the sibling key ``<key>_label`` in the same object, judged by the first rule.
  So names (``Issuer: DemoBank``), free text, amounts, ids and single words are not
  judged: only what both the provider's field name and the value's shape call a code.
  Keys starting with ``@`` (TM Forum's ``@type``, ``@referredType``, JSON-LD) name the
  schema class of the object itself, not a fact about the customer, and are not judged.
"""

from __future__ import annotations

import re
from typing import Any

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_CODE_LIKE = re.compile(
    r"^(?:[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+"  # CamelCase, two humps or more
    r"|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+"  # UPPER_SNAKE
    r"|[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)+)$"  # dotted scheme name
)
_CODE_KEY = re.compile(r"(type|code|status|schemename|frequency|kind)$")
_SPACE = re.compile(r"\s")
_BARE_CODE = re.compile(r"^[A-Z0-9._:/-]+$|\d|[._]")
"""A label looking like this (digits, dots, all capitals) is still a code, not words."""


def words(text: str) -> list[str]:
    """``text`` cut into case-folded words: CamelCase humps, digit runs, separated parts."""
    return [w.casefold() for w in _WORD.findall(text)]


def same_words(code: str, label: str) -> bool:
    """Whether ``label`` gives the same words as ``code``, whatever the case or separators."""
    return bool(words(code)) and words(code) == words(label)


def _tails(text: str) -> list[str]:
    """``text`` and what is left after each dotted namespace: ``UK.OBIE.IBAN``,
    ``OBIE.IBAN``, ``IBAN``."""
    parts = text.split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


def respelled(code: str, label: str) -> bool:
    """Whether ``label`` is ``code`` again in another spelling (see the module doc)."""
    if _SPACE.search(label):
        return False  # words a person reads, even when they are the code's words
    for said in _tails(label):
        for meant in _tails(code):
            found = words(meant)
            # Joined, so a case change alone (interimavailable) is caught too. One word is a
            # respelling only when the label wraps it in a namespace: "Active" for "active",
            # or "IBAN" for "UK.OBIE.IBAN", is how a person writes it.
            same = found and "".join(found) == "".join(words(said))
            if same and (len(found) > 1 or said != label):
                return True
    return False


def looks_like_code(key: str, value: Any) -> bool:
    """Whether ``value`` under ``key`` in ``extra`` is a provider code (see the module doc)."""
    if key.startswith("@"):
        return False
    named = bool(_CODE_KEY.search("".join(words(key))))
    return named and isinstance(value, str) and bool(_CODE_LIKE.match(value.strip()))


def code_problem(code: Any, label: Any) -> str | None:
    """What is wrong with ``label`` as the words for ``code`` (None if nothing)."""
    if code in (None, ""):
        return None
    if label is None or not str(label).strip():
        return f"code {code!r} has no label"
    text, said = str(code).strip(), str(label).strip()
    if respelled(text, said) or (said == text and _BARE_CODE.search(text)):
        return f"code {code!r} is labelled with itself ({label!r})"
    return None


def extra_problems(value: Any, path: str = "extra") -> list[str]:
    """Codes in ``extra`` (at any depth) without a label, or labelled with themselves."""
    found: list[str] = []
    if isinstance(value, list):
        for i, element in enumerate(value):
            found += extra_problems(element, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(inner, dict | list):
                found += extra_problems(inner, f"{path}.{key}")
            elif looks_like_code(str(key), inner) and (
                problem := code_problem(inner, value.get(f"{key}_label"))
            ):
                found.append(f"{path}.{key}: {problem}")
    return found
