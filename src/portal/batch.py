"""What the engine delivers: validated records, the raw payloads behind them, and the cursor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from portal.provider import Cursor
from portal.record.model import Entity
from portal.record.vocab import Category


@dataclass(frozen=True)
class RawPayload:
    """A raw item as released by the provider, as canonical JSON, with its digest."""

    id: str
    stream: str
    payload: str


@dataclass(frozen=True)
class RejectedItem:
    """A raw item that could not be normalised, and why."""

    raw_id: str
    stream: str
    reason: str


@dataclass(frozen=True)
class Batch:
    """One page's worth of normalised records, delivered and committed as one unit.

    ``cursor`` is the position the page reached: a destination that keeps state (the store)
    commits it in the same transaction as the records, so a crash can never leave a cursor
    ahead of the data it stands for.
    """

    provider: str
    connection_id: str
    stream: str
    fetched_at: datetime
    records: list[Entity] = field(default_factory=list)
    raws: list[RawPayload] = field(default_factory=list)
    rejections: list[RejectedItem] = field(default_factory=list)
    cursor: Cursor | None = None
    withdrawn: list[tuple[Category, str]] = field(default_factory=list)
    """Records the provider no longer serves, as (category, portal id): deleted with the
    batch (``Page.withdrawn``)."""
    stored: dict[str, tuple[int, int, int]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    """Filled in by a destination that can tell (the SQLite store) as it commits: for each
    record category, how many of the batch's records were new, how many changed a stored
    record, and how many there were (the others were stored already, exactly as they are)."""

    @property
    def items_in(self) -> int:
        """How many raw items the page carried."""
        return len(self.raws)
