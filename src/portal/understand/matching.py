"""Pairing records with the payments that settled them, without a false pair.

A bill and a bank debit, an order and a card payment: each side has candidates on the
other that agree in currency, amount and date. A pair is made only when each side is the
other's one best candidate: the candidate with the strongest *evidence* (the payment names
the biller's account or the shop) and no other candidate as strong. Two bills of the same
amount in the same window, with nothing to tell their payments apart, are left unlinked
and reported: a missing link can be found by a better rule later, a false one misleads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

Evidence = Callable[[str, str], int]
"""How strongly the record ``from_id`` and the payment ``to_id`` name each other: 0 not at
all (amount and date alone), 1 the provider or shop, 2 the very account."""


@dataclass(frozen=True)
class Pair:
    """A record and the payment that settled it, with how strongly they name each other."""

    from_id: str
    to_id: str
    evidence: int


@dataclass
class Ambiguity:
    """A record with several equally good payments (or a payment good for several records)."""

    from_id: str
    candidates: int


def mutual_best(
    records: Iterable[str],
    candidates: Callable[[str], Sequence[str]],
    rivals: Callable[[str], Sequence[str]],
    evidence: Evidence,
) -> tuple[list[Pair], list[Ambiguity]]:
    """Pair each record with its one best candidate payment when that payment's one best
    record is it; ``rivals(payment)`` are the unlinked records that payment could also
    settle (the record itself among them). A payment is used at most once."""
    pairs: list[Pair] = []
    ambiguous: list[Ambiguity] = []
    used: set[str] = set()
    paired: set[str] = set()
    for record in records:
        found = [c for c in candidates(record) if c not in used]
        if not found:
            continue
        best = _best({c: evidence(record, c) for c in found})
        if best is None:
            ambiguous.append(Ambiguity(record, len(found)))
            continue
        others = [r for r in rivals(best) if r not in paired]
        back = _best({r: evidence(r, best) for r in others})
        if back != record:
            ambiguous.append(Ambiguity(record, len(found)))
            continue
        used.add(best)
        paired.add(record)
        pairs.append(Pair(record, best, evidence(record, best)))
    return pairs, ambiguous


def _best(scores: dict[str, int]) -> str | None:
    """The one item with the highest score, or None when two share it."""
    if not scores:
        return None
    scored = sorted(((score, item) for item, score in scores.items()), reverse=True)
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        return None
    return scored[0][1]


def plain(text: str | None) -> str:
    """Text folded for comparing references: upper case, letters and digits only."""
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


def names_any(haystack: Iterable[str | None], needles: Iterable[str]) -> bool:
    """Whether any of ``needles`` (already ``plain``, 5 characters or more so that short
    numbers do not match by chance) occurs in any of the ``haystack`` texts."""
    folded = [plain(h) for h in haystack if h]
    return any(n in h for n in needles if len(n) >= 5 for h in folded)


def day_start(moment: datetime) -> datetime:
    """Midnight before ``moment``, in its own zone."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)
