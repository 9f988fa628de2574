"""Changes in what providers release, in the words a person reads (``portal changes``).

``portal.understand.history`` finds the changes (kept versions, new records); here each
becomes a ``Change`` with its sentence. Values are compared in one spelling (``plain``),
whichever database and path they came through: a kept version is JSON made by the database
(SQLite's ``json_object``, PostgreSQL's ``to_jsonb``), the live row comes through
SQLAlchemy's types. Provider text goes through ``portal.shown.shown``, so every sentence is
safe to print.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, get_args

from portal.record.model import Entity
from portal.record.vocab import State, standing_of
from portal.shown import shown

_UNSAID = frozenset(
    {"id", "provider", "provider_id", "origin", "connection_id", "consent_id", "fetched_at",
     "raw_id", "extra"}
)  # fmt: skip
"""Columns that say where a row came from, not what it says."""


@dataclass(frozen=True)
class Change:
    """One change in what a provider releases."""

    provider: str
    at: datetime
    """When portal saw it: the sync that brought the new version, or found it gone."""
    kind: str
    """new, standing, recipient_added, recipient_removed, price, detail, changed or gone."""
    category: str
    record_id: str
    words: str
    """The change in words, provider text shown safely (``shown``)."""

    def as_json(self) -> dict[str, str]:
        """The change as JSON-ready values."""
        return {
            "provider": self.provider,
            "at": self.at.astimezone(UTC).isoformat(),
            "kind": self.kind,
            "category": self.category,
            "record_id": self.record_id,
            "words": self.words,
        }


def plain(value: Any) -> str:
    """A stored value in one spelling, whichever database and path it came through: so the
    same value read from a kept version and from the live row compares equal."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, str):
        moment = _moment(value)
        if moment is not None:
            return moment
        return value
    if isinstance(value, list | dict):
        return json.dumps(_plain_nested(value), sort_keys=True, ensure_ascii=False)
    return str(value)


def _number(value: int | float | Decimal | str) -> str:
    try:
        number = Decimal(str(value)).normalize()
    except InvalidOperation:
        return str(value)
    return format(number, "f")


def _moment(value: str) -> str | None:
    """A timestamp's UTC text, if ``value`` is one (SQLite and PostgreSQL spell them apart)."""
    if len(value) < 19 or value[4:5] != "-" or value[10:11] not in ("T", " "):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _plain_nested(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain_nested(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain_nested(v) for k, v in value.items() if v is not None}
    return plain(value)


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y}"


class Sayer:
    """Turns records and their versions into sentences."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = names

    def who(self, provider: str) -> str:
        return shown(self.names.get(provider, provider))

    def what(self, entity: type[Entity], row: Mapping[str, Any]) -> str:
        """The record in a few words: its name, purpose or description."""
        if entity.category.value == "consents":
            kind, channel = row.get("kind_label"), row.get("channel_label")
            label = f"{kind} by {channel}" if kind and channel else row.get("purpose")
        else:
            keys = ("name", "full_name", "purpose", "description", "payee", "order_number")
            label = next((row[k] for k in keys if row.get(k)), row.get("provider_id"))
        return f"'{shown(label)}'"

    def new(self, entity: type[Entity], row: Mapping[str, Any], at: datetime) -> Change:
        who, name = self.who(row["provider"]), entity.category.value
        if name == "inferences":
            kind = shown(str(row.get("kind_label") or row.get("kind") or "inference").lower())
            derived = _parsed(row.get("derived_at")) or at
            words = (
                f"{who} inferred a new {kind} about you: '{shown(row.get('value'))}'"
                f" ({shown(row.get('name'))}), {_day(derived)}"
            )
        elif name == "consents":
            words = f"{who} holds a new permission: {self.what(entity, row)}: {_standing(row)}"
        elif name == "processing":
            words = f"{who}'s processing notice has a new purpose: {self.what(entity, row)}"
        else:
            words = f"{who} lists a new product: {self.what(entity, row)}{_prices(row)}"
        return Change(row["provider"], at, "new", name, row["id"], words)

    def gone(self, entity: type[Entity], old: Mapping[str, Any], at: datetime) -> Change:
        name = entity.category.value
        noun = name.replace("_", " ").removesuffix("s")
        words = (
            f"{self.who(old['provider'])} no longer releases the {shown(noun)}"
            f" {self.what(entity, old)}; portal keeps it as it was"
        )
        return Change(old["provider"], at, "gone", name, old["id"], words)

    def changed(
        self,
        entity: type[Entity],
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        at: datetime,
    ) -> Iterator[Change]:
        name, who, what = entity.category.value, self.who(old["provider"]), self.what(entity, old)

        def change(kind: str, words: str) -> Change:
            return Change(old["provider"], at, kind, name, old["id"], words)

        said: set[str] = set(_UNSAID)
        if name == "consents":
            before, after = _standing(old), _standing(new)
            if before != after:
                # What goes with a new standing (its status, when it ended) is that change.
                said |= {"state", "status", "status_label", "status_updated_at", "expires_at"}
                yield change("standing", f"{what} at {who}: {before} → {after}")
        elif name == "processing":
            said.add("recipients")
            before_r, after_r = _recipients(old), _recipients(new)
            for key in after_r.keys() - before_r.keys():
                yield change(
                    "recipient_added",
                    f"{who}'s processing notice, {what}: recipient added: {after_r[key]}",
                )
            for key in before_r.keys() - after_r.keys():
                yield change(
                    "recipient_removed",
                    f"{who}'s processing notice, {what}: recipient removed: {before_r[key]}",
                )
        elif name == "products":
            said.add("prices")
            before_p, after_p = _price_map(old), _price_map(new)
            for label in sorted(before_p.keys() | after_p.keys()):
                if before_p.get(label) != after_p.get(label):
                    price_was = before_p.get(label, "none")
                    price_now = after_p.get(label, "none")
                    yield change(
                        "price", f"{what} at {who}: {shown(label)}: {price_was} → {price_now}"
                    )
        # Every other field that differs, in one sentence: one change of one record.
        described = []
        for field, info in entity.model_fields.items():
            was, now = _typed(info.annotation, old.get(field)), new.get(field)
            if field in said or plain(was) == plain(now):
                continue
            title = shown(info.title or field)
            if isinstance(was, list | dict) or isinstance(now, list | dict):
                if field == "addresses":
                    described.append(f"{title}: {_addresses(old)} → {_addresses(new)}")
                else:
                    described.append(f"{title} changed")
            else:
                described.append(f"{title}: {_shown(was)} → {_shown(now)}")
        if described:
            kind = "detail" if name == "party" else "changed"
            noun = shown(entity.__name__.lower())
            yield change(kind, f"{who}, {noun} {what}: {'; '.join(described)}")


def _typed(annotation: Any, value: Any) -> Any:
    """A kept value as the live row holds it where the JSON lost its type: SQLite keeps
    a bool as 0 or 1."""
    is_bool = annotation is bool or bool in get_args(annotation)
    if is_bool and isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    return value


def _shown(value: Any) -> str:
    """A value for a sentence: a moment as its UTC date and time, the rest as it is."""
    if value in (None, ""):
        return "(none)"
    text = plain(value)
    if isinstance(value, str) and _moment(value) is not None:
        return f"{text[:10]} {text[11:16]} UTC"
    return shown(text)


def _parsed(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if moment.tzinfo else None
    return value if isinstance(value, datetime) else None


def _standing(row: Mapping[str, Any]) -> str:
    """A permission's standing (on, off, withdrawn...), else the provider's own status."""
    state = row.get("state")
    try:
        standing = standing_of(State(state)) if state else None
    except ValueError:
        standing = None
    return standing.value if standing is not None else shown(row.get("status_label") or "?")


def _recipients(row: Mapping[str, Any]) -> dict[str, str]:
    """A processing purpose's recipients by name, each in words."""
    found = {}
    for recipient in row.get("recipients") or []:
        if not isinstance(recipient, Mapping) or not recipient.get("name"):
            continue
        about = [str(recipient[k]) for k in ("kind", "country") if recipient.get(k)]
        words = shown(recipient["name"]) + (f" ({shown(', '.join(about))})" if about else "")
        found[plain(recipient["name"])] = words
    return found


def _price_map(row: Mapping[str, Any]) -> dict[str, str]:
    """A product's prices by label, each as its amount and currency (and unit, period)."""
    found = {}
    for price in row.get("prices") or []:
        if not isinstance(price, Mapping) or not price.get("label"):
            continue
        words = f"{_number(price.get('amount', ''))} {price.get('currency', '')}"
        if price.get("unit"):
            words += f" per {price['unit']}"
        if price.get("period"):
            words += f" a {price['period']}"
        found[str(price["label"])] = shown(words)
    return found


def _prices(row: Mapping[str, Any]) -> str:
    prices = _price_map(row)
    listed = "; ".join(f"{shown(label)} {words}" for label, words in prices.items())
    return f" ({listed})" if listed else ""


def _addresses(row: Mapping[str, Any]) -> str:
    words = []
    for address in row.get("addresses") or []:
        if isinstance(address, Mapping):
            parts = [*(address.get("lines") or []), address.get("town"), address.get("postcode")]
            words.append(", ".join(str(p) for p in parts if p))
    return shown("; ".join(words)) or "(none)"
