"""Sample files: the test double of a provider whose release is a file people download.

A sandbox stands in for a provider's API; a ``SampleExport`` stands in for its download (an
Amazon "Request your data" ZIP, an OFX statement, a midata CSV). It writes files laid out as
the provider's published format says, from a seeded dataset of its own, and states what a
correct importer must make of them, exactly as a sandbox does. The conformance suite's
import mode (``portal conformance NAME`` for a provider with no sandbox) imports them
through ``portal import``'s real path and grades the records: counts, values field by
field, legibility, re-import, damaged files, determinism, memory and import time.

An importer offers its samples with ``Importer(samples=MyExport)``. The double is written
from the published format, never from the importer's reading code: the point is two
independent readings of one format agreeing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar


class SampleExport:
    """Files a provider's download would hold, and what each must become in the record.

    ``SampleExport(folder, scale=1)`` writes its files into ``folder`` (which exists and is
    empty) and lists them in ``files``, in the order a person would import them. ``scale``
    multiplies the history (orders, transactions, readings): the suite imports a scaled
    export to see memory stay flat, so a scaled one holds about ``scale`` times the items
    and states its truth as well. A double that cannot scale says so in ``scales = False``.
    """

    scales: ClassVar[bool] = True
    """Whether ``scale`` grows the history (the suite's memory check needs it)."""

    truth_categories: ClassVar[dict[str, str | None]] = {}
    """As ``Sandbox.truth_categories``: a ground-truth key that is not a record category,
    mapped to one (or to None: information only)."""

    truth_rejections: ClassVar[dict[str, int]] = {}
    """As ``Sandbox.truth_rejections``: items of a category a correct importer must refuse
    with a reason (a row the format forbids, deliberately in the sample)."""

    def __init__(self, folder: Path, scale: int = 1) -> None:
        self.folder = folder
        self.scale = scale
        self.files: Sequence[Path] = ()

    def ground_truth(self) -> dict[str, list[dict[str, Any]]]:
        """The items the files hold, by record category: each becomes exactly one record.

        The items are stated as the provider's data (an order with its lines, a row's
        cells), for the suite's messages; the count of each category is what is checked.
        """
        return {
            category: [dict(fields, provider_id=pid) for pid, fields in by_id.items()]
            for category, by_id in self.expected_records().items()
        }

    def expected_records(self) -> dict[str, dict[str, dict[str, Any]]]:
        """What each record must say, by category and provider id: the contract of
        ``Sandbox.expected_records`` (every field the stored record fills, in the record
        model's Python types; ``extra`` whole or as ``"extra.<key>"``)."""
        return {}

    def secret_kinds(self) -> dict[str, str]:
        """No credential crosses a file import: nothing for the secret search to look for."""
        return {}
