"""Import mode's own checks: damaged files, no network, memory flat over a longer history.

A person's download can arrive cut short, with bytes garbled in transit, or empty. Each
damaged copy of a sample file is imported into a home that already holds the good ones:
it is refused with portal's clear error naming the file (and, where there is one, the line
or element), leaving every record as it was; or, where the damage leaves a readable file,
imported without changing or making up any record. An import makes no network connection
at all. And a history many times longer costs about the same memory: the importer reads a
page at a time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from portal.errors import UserError
from portal.record.model import ENTITIES
from portal.samples import SampleExport
from portal_conformance.failures import CheckFailed, NotApplicable, examples, require
from portal_conformance.harness import IMPORT, Harness, Run

DAMAGES = ("truncated", "garbled", "empty")
"""How a download goes wrong: cut off mid-record, a run of random bytes inside, no bytes."""
GARBLE = bytes(range(128, 256)) * 2 + b"\x00\x01\x02\x1b[2J\r\n\xef\xbf"
"""The bytes put in the middle of a garbled file: invalid UTF-8, NULs, a terminal escape."""
SCALE = 100
"""How much longer the history of the memory check's second export is."""
MEMORY_RATIO = 1.2
"""Peak memory importing the longer history, at most this times the shorter one's."""


def samples_of(run: Run) -> SampleExport:
    """The run's sample export (import mode only)."""
    if not isinstance(run.sandbox, SampleExport):
        raise NotApplicable("this check is for a provider graded on sample files")
    return run.sandbox


def damage(data: bytes, how: str) -> bytes:
    """``data`` damaged as ``how`` says, deterministically."""
    if how == "empty":
        return b""
    middle = len(data) * 3 // 5
    if how == "truncated":
        # Cut inside a record, never just after a line end: a file cut at a row boundary
        # is a shorter file no reader can tell from a real one.
        while middle > 1 and data[middle - 1 : middle] in (b"\n", b"\r", b">"):
            middle -= 1
        return data[:middle]
    return data[:middle] + GARBLE + data[middle:]


def _records(run: Run) -> dict[str, dict[str, dict[str, Any]]]:
    return {e.__name__: {r["id"]: r for r in run.rows(e)} for e in ENTITIES}


def damaged(h: Harness, how: str) -> None:
    """Each sample file damaged as ``how``: refused clearly, or read without harm."""
    h.unsupported("resilience", f"resilience.{how}")
    if h.mode != IMPORT:
        raise NotApplicable("damaged files are checked for a provider graded on sample files")
    run = h.run(f"damaged-{how}")
    require(
        run.result.ok,
        f"Importing the sample files failed: {run.result.error}",
        where=f"portal import of {type(run.sandbox).__name__}'s files",
        fix="Fix the import of the undamaged files first.",
    )
    samples = samples_of(run)
    before = _records(run)
    folder = run.portal.home / f"damaged-{how}"
    folder.mkdir()
    problems: list[str] = []
    refused = 0
    for path in samples.files:
        bad = folder / path.name
        bad.write_bytes(damage(path.read_bytes(), how))
        try:
            h.import_file(run, bad)
        except UserError as error:
            refused += 1
            if path.name not in str(error):
                problems.append(
                    f"{path.name}: refused, but the error does not name the file:"
                    f" {str(error)[:200]!r}"
                )
        except Exception as error:  # the finding itself: a crash instead of a clear error
            problems.append(f"{path.name}: crashed with {type(error).__name__}: {error}"[:300])
        after = _records(run)
        changed = [
            f"{name} {rid}"
            for name, rows in before.items()
            for rid in set(rows) | set(after[name])
            if rows.get(rid) != after[name].get(rid)
        ]
        if changed:
            problems.append(
                f"{path.name}: the damaged file changed, added or removed records:"
                f" {examples(changed)}"
            )
            before = after
    require(
        not problems,
        f"Damaged ({how}) copies of the sample files were not handled: {examples(problems)}.",
        where=f"the importer {h.importer.name if h.importer else h.name!r}",
        fix="Raise portal.importing.BadFile(path, 'line N', what is wrong) for a file that"
        " cannot be read as a whole; never store what a damaged file seems to say.",
    )
    del refused


def offline(h: Harness, phase: str) -> None:
    """An import connects to nothing: the file is all there is."""
    run = h.require_main_ok()
    require(
        not run.egress,
        f"Importing the sample files tried to reach {examples(sorted(set(run.egress)))}.",
        where=f"the importer {h.importer.name if h.importer else h.name!r}",
        fix="Read only the file: an import must work on a machine with no network.",
    )
    del phase


_IMPORTER = """
import sys
from pathlib import Path
from portal.app import Portal
from portal.importing import import_file
home, plugins, importer, account, *files = sys.argv[1:]
folder = Path(plugins) if plugins else None
with Portal.open(home=Path(home), plugins_dir=folder) as portal:
    for name in files:
        import_file(portal, Path(name), importer=importer, account=account or None)
"""


def _peak_rss(h: Harness, samples: SampleExport, home: Path) -> tuple[float, int]:
    """Peak resident memory (MB) of a process importing ``samples`` into ``home``, and the
    files' total size in bytes."""
    assert h.importer is not None
    env = {**os.environ, "PORTAL_VAULT": "file"}
    env.pop("PORTAL_DB", None)
    command = [
        sys.executable,
        "-c",
        _IMPORTER,
        str(home),
        str(h.plugins_dir or ""),
        h.importer.name,
        getattr(samples, "account", None) or "",
        *map(str, samples.files),
    ]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    require(
        process.returncode == 0,
        f"Importing the samples at scale {samples.scale} failed:"
        f" {errors.decode(errors='replace').strip()[-400:]}",
        where=f"{type(samples).__name__}(scale={samples.scale})",
        fix="Make the scaled export importable (the same format, a longer history).",
    )
    size = sum(p.stat().st_size for p in samples.files)
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    peak = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return peak, size


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


def memory_flat(h: Harness) -> dict[str, float]:
    """Importing a history ``SCALE`` times longer costs about the same peak memory."""
    h.require_main_ok()
    small = h.samples()
    if not small.scales:
        raise NotApplicable(
            f"{type(small).__name__} cannot write a longer history (scales = False), so"
            " memory cannot be compared"
        )
    large = h.samples(scale=SCALE)
    work = h.workdir / "memory"
    shutil.rmtree(work, ignore_errors=True)
    low, low_size = _peak_rss(h, small, work / "small")
    high, high_size = _peak_rss(h, large, work / "large")
    figures = {
        "peak_mb_small": round(low, 1),
        "peak_mb_large": round(high, 1),
        "file_mb_small": round(low_size / 1e6, 3),
        "file_mb_large": round(high_size / 1e6, 3),
    }
    if high > low * MEMORY_RATIO:
        raise CheckFailed(
            f"Importing {_size(high_size)} of sample files (scale {SCALE}) peaked at"
            f" {high:.0f} MB against {low:.0f} MB for {_size(low_size)} (scale 1): more"
            f" than {MEMORY_RATIO}x, so memory grows with the history.",
            where=f"the importer {h.importer.name if h.importer else h.name!r}",
            fix="Yield a FilePage every few hundred items as the file is read (a generator);"
            " never read every row into a list first.",
            stats=figures,
        )
    return figures
