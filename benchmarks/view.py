"""How fast ``portal view`` answers, at the demo's size and with a million rows.

    python benchmarks/view.py [--rows 1000000] [--repeat 5] [--keep FOLDER] [--page NAME]

1. The demo: the four bundled sandboxes synced into a fresh home through the real OAuth
   flow (as ``portal sync --demo`` does); then every page of ``portal.view.catalogue.PAGES``
   (and a record page, and a search) is asked for ``--repeat`` times through a real
   ``ViewServer`` on 127.0.0.1 by an httpx client holding the cookie, as a browser would.
2. The same store with ``--rows`` more transactions and ``--rows`` more usage readings,
   made by copying the demo's own rows in SQL (new ids, spread over the ten years before
   the demo's, amounts and quantities varied), written through the store's own triggers
   and indexes; the same pages asked for again. The copy is made with ``INSERT ...
   SELECT``, not through a sync: what is measured here is reading, and syncing a million
   rows is ``benchmarks/sync.py``'s job.
3. ``portal report`` of the demo store, when the command exists: its time and its size.

With ``--keep FOLDER`` the stores are made in that folder and kept; a later run given the
same folder and ``--rows`` times them again without syncing or copying anything (building
a million rows takes minutes, timing a page after a change to the view seconds).
``--page NAME`` (repeatable) times only the pages so named (``"money, words and amounts"``).

It prints a Markdown table: each page's median and slowest answer, at both sizes, against
the targets of issue 18 (300 ms at the demo's size, 1 s with a million rows; the report in
under 5 s and under 5 MB).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

from portal.demo import demo_home as make_demo_home
from portal.store import Store, sqlite_url
from portal.view import ViewServer
from portal.view.catalogue import PAGES
from portal.view.pages import record_url

PAGE_TARGET_DEMO = 0.300
PAGE_TARGET_BIG = 1.0
REPORT_SECONDS = 5.0
REPORT_BYTES = 5 * 1024 * 1024
YEARS = 10
"""How far back the added rows reach before the demo's own."""


@dataclass
class Timing:
    """One address asked for ``repeat`` times: the median and the slowest answer."""

    name: str
    median: float
    slowest: float
    bytes: int
    cpu: float
    """The median CPU seconds of this process (the server's threads and the client) per
    ask: what an answer costs whatever else the machine is running."""


def demo_home(root: Path) -> Path:
    """A home with the four bundled sandboxes synced once, as ``portal sync --demo`` makes it."""
    home = root / "home"
    results = make_demo_home(home, ["bank", "utility", "telco", "retailer"])
    failed = [r.provider for r in results if not r.ok]
    if failed:
        raise SystemExit(f"the demo sync failed for {failed}")
    return home


def addresses(db: Path) -> dict[str, str]:
    """Every page to time: each page of the navigation, a record page, a search."""
    found = {page.name: page.rule for page in PAGES if page.in_nav and "<" not in page.rule}
    with sqlite3.connect(db) as connection:
        row = connection.execute(
            "SELECT id, description FROM transactions ORDER BY booked_at DESC LIMIT 1"
        ).fetchone()
    if row is not None:
        if any(page.name == "record" for page in PAGES):
            found["record"] = record_url("transactions", row[0])
        if any(page.name == "search" for page in PAGES):
            found["search"] = "/search?" + urlencode({"q": row[1].split()[0]})
            # A word most records hold: the most hits to count and page through.
            found["search, a common word"] = "/search?" + urlencode({"q": "card"})
    if any(page.name == "money" for page in PAGES):
        found["money, sorted by amount"] = "/money?" + urlencode({"sort": "amount"})
        found["money, words and amounts"] = "/money?" + urlencode(
            {"q": "card", "low": "-50", "high": "-5", "sort": "amount", "page": "20"}
        )
    return found


def time_pages(db: Path, repeat: int, only: Sequence[str] = ()) -> list[Timing]:
    """Ask for every address (those named ``only``, if any) ``repeat`` times, after one
    warm-up, through a real server."""
    store = Store(sqlite_url(db), read_only=True)
    timings = []
    try:
        with ViewServer(store) as server, httpx.Client(timeout=120) as client:
            assert client.get(server.login_url).status_code == 303
            base = server.url.rstrip("/")
            for name, path in addresses(db).items():
                if only and name not in only:
                    continue
                first = client.get(base + path)
                if first.status_code != 200:
                    raise SystemExit(f"{name} ({path}) answered {first.status_code}")
                seconds, cpu = [], []
                for _ in range(repeat):
                    start, used = time.perf_counter(), time.process_time()
                    answer = client.get(base + path)
                    seconds.append(time.perf_counter() - start)
                    cpu.append(time.process_time() - used)
                    answer.raise_for_status()
                timings.append(
                    Timing(
                        name,
                        statistics.median(seconds),
                        max(seconds),
                        len(answer.content),
                        statistics.median(cpu),
                    )
                )
    finally:
        store.close()
    return timings


def grow(db: Path, rows: int) -> None:
    """Add ``rows`` transactions and ``rows`` usage readings, copied from the demo's own."""
    connection = sqlite3.connect(db)
    try:
        with connection:
            for table, moment, number in (
                ("transactions", "booked_at", "amount"),
                ("usage", "started_at", "quantity"),
            ):
                _grow_table(connection, table, moment, number, rows)
    finally:
        connection.close()


def _grow_table(
    connection: sqlite3.Connection, table: str, moment: str, number: str, rows: int
) -> None:
    # Table and column names here are the store's own (from PRAGMA), never input.
    columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]
    connection.execute(f'CREATE TEMP TABLE template AS SELECT * FROM "{table}"')  # noqa: S608
    connection.execute("ALTER TABLE template ADD COLUMN k INTEGER")
    connection.execute("UPDATE template SET k = rowid - 1")
    connection.execute("CREATE INDEX template_k ON template (k)")
    count = connection.execute("SELECT count(*) FROM template").fetchone()[0]
    if not count:
        connection.execute("DROP TABLE template")
        return
    # Each copy of the demo's rows moves a little further back, so the million rows span
    # ten years before the demo's own: a heavy user's decade, as a person's store grows.
    copies = -(-rows // count)
    step = YEARS * 365.25 / copies
    made = {
        "id": "'bench-' || n.i",
        "provider_id": "'bench-' || n.i",
        moment: (
            f"strftime('%Y-%m-%dT%H:%M:%S', t.{moment}, "
            f"'-' || ((n.i / {count} + 1) * {step:.6f}) || ' days') || '.000000+00:00'"
        ),
        # Varied, and rounded as a provider would state them (pence, Wh).
        number: f"round(CAST(t.{number} AS REAL) * (1 + (n.i % 97) / 100.0), 3)",
    }
    chosen = ", ".join(made.get(c, f"t.{c}") for c in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    last = rows - 1
    numbers = f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})"  # noqa: S608
    copy = f'INSERT INTO "{table}" ({names}) SELECT {chosen} FROM n JOIN template AS t'  # noqa: S608
    connection.execute(f"{numbers} {copy} ON t.k = n.i % {count}")
    connection.execute("DROP TABLE template")


def time_report(home: Path) -> tuple[float, int] | None:
    """Seconds and bytes of ``portal report`` on ``home``'s store, if the command exists."""
    out = home / "report.html"
    portal = str(Path(sys.executable).with_name("portal"))
    command = [portal, "--home", str(home), "report", "--out", str(out)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        if "No such command" in done.stderr:
            return None
        raise SystemExit(f"portal report failed:\n{done.stderr}")
    return seconds, out.stat().st_size


def verdict(ok: bool) -> str:
    return "pass" if ok else "**miss**"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=5, help="asks per page (default %(default)s)")
    parser.add_argument(
        "--keep", type=Path, help="make the stores in this folder, keep them, reuse them"
    )
    parser.add_argument(
        "--page", action="append", default=[], help="time only this page (repeatable)"
    )
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="portal-view-bench-")) if args.keep is None else args.keep
    root.mkdir(parents=True, exist_ok=True)
    try:
        home, big_db, grown = root / "home", root / "big.db", root / "big.rows"
        if not (home / "portal.db").exists():
            start = time.perf_counter()
            demo_home(root)
            print(f"demo synced in {time.perf_counter() - start:.1f} s", file=sys.stderr)
            grown.unlink(missing_ok=True)
        demo = time_pages(home / "portal.db", args.repeat, args.page)
        report = time_report(home) if not args.page else None
        # The grown store is reused only when it was finished with as many rows as asked.
        if not grown.exists() or grown.read_text() != str(args.rows):
            grown.unlink(missing_ok=True)
            shutil.copyfile(home / "portal.db", big_db)
            start = time.perf_counter()
            grow(big_db, args.rows)
            grown.write_text(str(args.rows))
            print(
                f"grown by {args.rows:,} rows each in {time.perf_counter() - start:.1f} s",
                file=sys.stderr,
            )
        big = {t.name: t for t in time_pages(big_db, args.repeat, args.page)}
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(f"## portal view: each page, median (slowest) of {args.repeat}\n")
    print(
        f"| page | demo | target | +{args.rows:,} transactions and readings | target | CPU, +rows |"
    )
    print("|---|---|---|---|---|---|")
    for t in demo:
        b = big[t.name]
        print(
            f"| {t.name} | {t.median * 1000:.0f} ms ({t.slowest * 1000:.0f}) "
            f"| {verdict(t.slowest < PAGE_TARGET_DEMO)} "
            f"| {b.median * 1000:.0f} ms ({b.slowest * 1000:.0f}) "
            f"| {verdict(b.slowest < PAGE_TARGET_BIG)} | {b.cpu * 1000:.0f} ms |"
        )
    if args.page:
        pass  # some pages only: the report was not timed
    elif report is None:
        print("\nportal report: not available in this build.")
    else:
        seconds, size = report
        print(
            f"\nportal report of the demo store: {seconds:.2f} s "
            f"({verdict(seconds < REPORT_SECONDS)}), {size / 1024 / 1024:.2f} MB "
            f"({verdict(size < REPORT_BYTES)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
