"""What the About me page says: the personal details each provider holds about the person,
side by side, and where the providers disagree.

One row per kind of detail (the record's field titles), one column per provider's Party.
Values are compared normalised, so that only a real difference is called one: names
case- and space-insensitively (an accent still counts: "Siobhan" is not "Siobhán"), email
addresses case-insensitively, phone numbers by their digits ("+44-7700900123" is
"+44 (0)7700 900123"), addresses by their lines, town, postcode and country whatever their
kind, case or punctuation. A provider that does not hold a detail is "not held", never a
difference. Where the providers holding a detail disagree, the ones outside the largest
group that agrees are marked (all of them when no group is largest), and the row says in
words what differs and where.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import SQLModel

from portal.record import Address, Party
from portal.record.base import titles
from portal.store import Store
from portal.view.stored import stored

if TYPE_CHECKING:
    from portal.view.catalogue import Visit


@dataclass(frozen=True)
class Shown:
    """One value as a cell shows it, and whether it is one the providers disagree on."""

    text: str
    differs: bool = False


@dataclass(frozen=True)
class Row:
    """One kind of detail across providers: a cell per provider (empty: not held)."""

    label: str
    cells: list[list[Shown]]
    differences: list[str]
    """What differs, in words ("Spelt differently at telco."); empty when nothing does."""
    compared: bool = True
    """False for details that are each provider's own (its customer number)."""


@dataclass(frozen=True)
class Holder:
    """One column: a provider's record of the person."""

    provider: str
    id: str
    """The Party's portal id (its record page)."""


@dataclass(frozen=True)
class AboutMe:
    """The About me page: who holds what, and the rows with their differences."""

    holders: list[Holder]
    rows: list[Row]


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def name_key(value: str) -> str:
    """A name as compared: case and runs of spaces do not count, letters and accents do."""
    return _fold(value)


def email_key(value: str) -> str:
    """An email address as compared: case and surrounding space do not count."""
    return _fold(value).replace(" ", "")


def phone_key(value: str) -> str:
    """A phone number as compared: its digits, with a leading ``+`` (or ``00``) kept as ``+``
    and the trunk prefix written in brackets after a country code ("+44 (0)20") left out."""
    digits = re.sub(r"\D", "", value.replace("(0)", ""))
    international = value.strip().startswith("+") or digits.startswith("00")
    return "+" + digits.removeprefix("00") if international else digits


def address_key(address: Address) -> str:
    """An address as compared: its lines, town, postcode and country, whatever its kind,
    case, punctuation or spacing (a postcode's space does not count either)."""
    lines = " ".join(address.lines)
    parts = [lines, address.town or "", (address.postcode or "").replace(" ", ""), address.country]
    return "|".join(_fold(re.sub(r"[.,;]", " ", part or "")) for part in parts)


def address_text(address: Address) -> str:
    """An address on one line, as a person reads it."""
    parts = [*address.lines, address.town, address.postcode, address.country]
    return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class _Detail:
    field: str
    key: Callable[[str], str] | None
    wording: str
    """What a difference is, in words ("A different email address")."""


_DETAILS = (
    _Detail("full_name", name_key, "Spelt differently"),
    _Detail("legal_name", name_key, "Spelt differently"),
    _Detail("birth_date", str, "A different date of birth"),
    _Detail("email", email_key, "A different email address"),
    _Detail("phone", phone_key, "A different number"),
    _Detail("mobile", phone_key, "A different number"),
    _Detail("customer_number", None, ""),
    _Detail("party_type_label", None, ""),
)


def about_me(store: Store) -> AboutMe:
    """The About me page of ``store``: every Party, by provider."""
    table = SQLModel.metadata.tables[Party.category]
    with store.engine.connect() as db:
        query = select(table).order_by(table.c.provider, table.c.id)
        parties = [stored(Party, row._asdict()) for row in db.execute(query)]
    holders = [Holder(p.provider, p.id) for p in parties]
    names = [p.provider for p in parties]
    rows = [_row(d, parties, names) for d in _DETAILS]
    rows.insert(6, _addresses(parties, names))  # after the name, birth date and numbers
    return AboutMe(holders, rows)


def _label(field: str) -> str:
    return titles(Party)[field][0].removesuffix(" (label)")


def _row(detail: _Detail, parties: Sequence[Party], names: list[str]) -> Row:
    values: list[Any] = [getattr(p, detail.field) for p in parties]
    texts = [None if v in (None, "") else str(v) for v in values]
    if detail.key is None:
        cells = [[Shown(t)] if t else [] for t in texts]
        return Row(_label(detail.field), cells, [], compared=False)
    keys = [None if t is None else detail.key(t) for t in texts]
    marked = _outliers(keys)
    cells = [[Shown(t, i in marked)] if t else [] for i, t in enumerate(texts)]
    differences = []
    if marked:
        wording = detail.wording
        if detail.key is name_key and not _similar([t for t in texts if t]):
            wording = "A different name"
        differences.append(_sentence(wording, [names[i] for i in sorted(marked)], keys, marked))
    return Row(_label(detail.field), cells, differences)


def _outliers(keys: Sequence[str | None]) -> set[int]:
    """The columns whose value is not the one most providers holding it agree on (every
    holder's when no value is held by more of them than any other)."""
    groups: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        if key is not None:
            groups.setdefault(key, []).append(i)
    if len(groups) < 2:
        return set()
    largest = max(len(g) for g in groups.values())
    leaders = [g for g in groups.values() if len(g) == largest]
    agreed = set(leaders[0]) if len(leaders) == 1 else set()
    return {i for g in groups.values() for i in g} - agreed


def _similar(texts: Sequence[str]) -> bool:
    folded = sorted({name_key(t) for t in texts})
    return all(SequenceMatcher(None, folded[0], other).ratio() >= 0.75 for other in folded[1:])


def _sentence(wording: str, where: list[str], keys: Sequence[str | None], marked: set[int]) -> str:
    held = [i for i, k in enumerate(keys) if k is not None]
    if set(held) == marked:  # no value is held by more providers than another
        return f"{wording} at {_joined(where)}: they disagree, and no one version is held by more."
    return f"{wording} at {_joined(where)}."


def _joined(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _addresses(parties: Sequence[Party], names: list[str]) -> Row:
    held = [i for i, p in enumerate(parties) if p.addresses]
    holders: dict[str, set[int]] = {}
    texts: dict[str, str] = {}
    for i in held:
        for address in parties[i].addresses:
            key = address_key(address)
            holders.setdefault(key, set()).add(i)
            texts.setdefault(key, address_text(address))
    odd = {key for key, who in holders.items() if who != set(held)}
    cells = [
        [
            Shown(f"{a.kind}: {address_text(a)}" if a.kind else address_text(a), key in odd)
            for a in p.addresses
            for key in [address_key(a)]
        ]
        for p in parties
    ]
    differences = []
    for key in sorted(odd, key=lambda k: (sorted(holders[k]), texts[k])):
        who = [names[i] for i in sorted(holders[key])]
        if len(who) == 1:
            differences.append(f"Only {who[0]} holds {texts[key]}.")
        else:
            missing = [names[i] for i in held if i not in holders[key]]
            verb = "does" if len(missing) == 1 else "do"
            differences.append(f"{_joined(who)} hold {texts[key]}; {_joined(missing)} {verb} not.")
    return Row(_label("addresses"), cells, differences)


def context(visit: Visit) -> dict[str, Any]:
    """The About me page's template context."""
    return {"about": about_me(visit.store)}
