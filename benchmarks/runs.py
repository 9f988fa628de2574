"""The measured runs of the sync benchmark, each in a process of its own.

``benchmarks/sync.py`` starts one process per run (``python benchmarks/runs.py KIND CONFIG``)
so that the peak RSS each reports is that run's alone. Every run prints one JSON line: how
many transactions it handled, the seconds of the measured part, the CPU seconds the process
(every thread, and any child) used in it, and the process's peak RSS (with the store's
writer process's peak added, where a sync had one).
What is measured, by kind:

- ``portal``: ``Portal.sync`` of the Demo Bank into the home's SQLite store (connecting
  first, through the real OAuth flow, if the home has no connection yet: not timed), with
  the CPU seconds of each of portal's threads (fetch, normalise, deliver, main) and of
  the store's writer process (``writer``), which a long sync hands its SQLite writes to;
- ``fetch``: ceiling (a), every transactions page fetched with plain httpx and a bearer
  token, nothing done beyond decoding the JSON;
- ``insert``: ceiling (b), the rows of portal's ``transactions`` table, read back from the
  store portal just wrote, inserted into a fresh store with ``executemany`` in one
  transaction (only the inserts and the commit are timed), without the search index's
  triggers (that work is portal's own choice and counts against portal, not the ceiling);
- ``dlt``: dlt's ``rest_api`` source over the same API, ``Links.Next`` paginator set
  explicitly, into DuckDB through jsonl files (extract, normalise and load all timed).
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import json
import os
import pstats
import resource
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpcore  # noqa: F401 - imported here, outside every measured run (see below)
import httpx

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.store import Store, sqlite_url

Config = dict[str, Any]


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB."""
    return _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _peak_of(pid: int) -> float:
    """The peak RSS of another process of this machine so far, in MB (Linux: VmHWM).

    Not ``RUSAGE_CHILDREN``'s ``ru_maxrss``: it counts a child from its fork, when it
    still shares all of its parent's pages, and so reports the parent's size.
    """
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    line = next((line for line in status.splitlines() if line.startswith("VmHWM:")), "")
    return int(line.split()[1]) / 1024 if line else 0.0


def _mb(maxrss: int) -> float:
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


class Clock:
    """Wall and CPU seconds of the measured parts of a run (CPU: every thread, any child)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu = 0.0

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Count the time spent in the ``with`` block."""
        wall, cpu = time.perf_counter(), _cpu()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - wall
            self.cpu += _cpu() - cpu

    def report(self, **figures: Any) -> dict[str, Any]:
        """``figures`` with the seconds and CPU seconds counted."""
        return figures | {"seconds": self.seconds, "cpu_seconds": self.cpu}


ROLES = (("portal-deliver", "deliver"), ("portal-fetch", "fetch"), ("sync-", "normalise"))
"""Which of portal's threads does what, by the start of the thread's name (engine.runner,
engine.prefetch, engine.delivery); the main thread connects, starts and joins them."""


class ThreadCPU:
    """CPU seconds of portal's threads by role, each thread's own count as its ``run`` ends.

    Every thread started in the ``with`` block notes ``time.thread_time()`` when it ends
    (portal's sync threads all end before ``Portal.sync`` returns); the main thread's is
    counted from the start of the block to its end. Exact, and one call per thread.
    """

    def __init__(self) -> None:
        self.spent: list[tuple[str, float]] = []
        self._run = threading.Thread.run
        self._main = 0.0

    def __enter__(self) -> ThreadCPU:
        original, spent = self._run, self.spent

        def counted(thread: threading.Thread) -> None:
            try:
                original(thread)
            finally:
                spent.append((thread.name, time.thread_time()))

        threading.Thread.run = counted  # type: ignore[method-assign, assignment]
        self._main = time.thread_time()
        return self

    def __exit__(self, *exc: object) -> None:
        threading.Thread.run = self._run  # type: ignore[method-assign]
        self.spent.append(("MainThread", time.thread_time() - self._main))

    def by_role(self) -> dict[str, float]:
        """CPU seconds spent in the ``with`` block by fetch, normalise, deliver and main."""
        roles: dict[str, float] = {}
        for name, cpu in self.spent:
            role = next((r for prefix, r in ROLES if name.startswith(prefix)), None)
            role = role or ("main" if name == "MainThread" else "other")
            roles[role] = roles.get(role, 0.0) + cpu
        return roles


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _open(home: Path) -> Portal:
    return Portal.open(home=home)


def _connected(portal: Portal, endpoints: dict[str, str]) -> None:
    if portal.store.connection("bank") is None:
        portal.connect("bank", browser=auto_approve_browser, endpoints=endpoints, timeout=60)


def _token(config: Config) -> str:
    """A bearer token for the sandbox, obtained through the real OAuth flow in a scratch home."""
    with tempfile.TemporaryDirectory() as scratch, _open(Path(scratch)) as portal:
        connection = portal.connect(
            "bank", browser=auto_approve_browser, endpoints=config["endpoints"], timeout=60
        )
        tokens = portal.vault.get(connection.id)
        assert tokens is not None and tokens.access_token is not None
        return tokens.access_token


def run_portal(config: Config) -> dict[str, Any]:
    """One ``Portal.sync`` of the bank; the first one in a home connects first (not timed).

    Imports are never timed, and httpx imports httpcore only when its first client is made:
    ``httpcore`` is imported with the rest at the top, or the first sync in a process (a
    re-sync, in its own process) would count 25 ms of importing it.
    """
    with _open(Path(config["home"])) as portal:
        _connected(portal, config["endpoints"])
        profilers = _profile_threads() if config.get("profile") else None
        clock = Clock()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        with ThreadCPU() as threads, clock.running():
            [result] = portal.sync(["bank"])
        if not result.ok:
            raise SystemExit(f"portal's sync failed: {result.error}")
        stored = portal.store.counts().get("bank", {}).get("transactions", 0)
        process = portal.store.writer_process
        writer_peak = _peak_of(process.pid) if process is not None else 0.0
    # The store's writer process (a long sync's SQLite writes, portal.store_writer) ends
    # when the store closes, just above: only then are its CPU and peak RSS known. Its
    # CPU is all the sync's (it only waits afterwards), and counts as the "writer" role.
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    writer = ended.ru_utime + ended.ru_stime - children.ru_utime - children.ru_stime
    report = clock.report(
        transactions=result.records.get("transactions", 0),
        stored=stored,
        pages=result.pages,
        threads=threads.by_role() | {"writer": writer},
        writer_peak_rss_mb=writer_peak,
    )
    report["cpu_seconds"] += writer
    if profilers:
        report["profile"] = _profile_text(profilers, config.get("profile_lines", 30))
    return report


def _profile_threads() -> list[cProfile.Profile]:
    """Profile every thread started from now on (portal syncs each provider in a thread)."""
    profilers: list[cProfile.Profile] = []
    run = threading.Thread.run

    def profiled(thread: threading.Thread) -> None:
        profiler = cProfile.Profile()
        profilers.append(profiler)
        profiler.runcall(run, thread)

    threading.Thread.run = profiled  # type: ignore[method-assign, assignment]
    return profilers


def _profile_text(profilers: list[cProfile.Profile], lines: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(*profilers, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumulative").print_stats(lines)
    return out.getvalue()


def _pages(client: httpx.Client, url: str) -> Iterator[dict[str, Any]]:
    next_url: str | None = url
    while next_url:
        response = client.get(next_url)
        response.raise_for_status()
        body = response.json()
        yield body
        next_url = body.get("Links", {}).get("Next")


def run_fetch(config: Config) -> dict[str, Any]:
    """Ceiling (a): fetch every transactions page with plain httpx, decode, count."""
    token = _token(config)
    base = config["endpoints"]["api_base"]
    headers = {"Authorization": f"Bearer {token}"}
    count = pages = 0
    clock = Clock()
    with httpx.Client(headers=headers, timeout=60) as client, clock.running():
        accounts = client.get(f"{base}/accounts").json()["Data"]["Account"]
        for account in accounts:
            for body in _pages(client, f"{base}/accounts/{account['AccountId']}/transactions"):
                count += len(body["Data"]["Transaction"])
                pages += 1
    return clock.report(transactions=count, pages=pages)


_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")
"""The store's own pragmas (``portal.store.Store``), so the ceiling writes as portal does."""


def run_insert(config: Config) -> dict[str, Any]:
    """Ceiling (b): portal's stored transaction rows, executemany'd into a fresh store (its
    tables and indexes, not the search index's triggers)."""
    target = Path(config["target"])
    Store(sqlite_url(target)).close()  # portal's schema: the same columns, the same indexes
    source = sqlite3.connect(f"file:{config['source']}?mode=ro", uri=True)
    columns = [row[1] for row in source.execute("PRAGMA table_info(transactions)")]
    names = ", ".join(f'"{c}"' for c in columns)
    insert = f"INSERT INTO transactions ({names}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
    db = sqlite3.connect(target, isolation_level=None)
    for pragma in _PRAGMAS:
        db.execute(pragma)
    # Without the search index's triggers: keeping the index is work portal chooses to do,
    # so it counts against portal, never as a lower (easier) ceiling.
    triggers = db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for (name,) in triggers:
        db.execute(f'DROP TRIGGER "{name}"')
    rows = source.execute(f"SELECT {names} FROM transactions")  # noqa: S608
    count, clock = 0, Clock()
    with clock.running():
        db.execute("BEGIN")
    while chunk := rows.fetchmany(10_000):
        with clock.running():
            db.executemany(insert, chunk)
        count += len(chunk)
    with clock.running():
        db.execute("COMMIT")
    db.close()
    source.close()
    return clock.report(transactions=count)


def run_dlt(config: Config) -> dict[str, Any]:
    """dlt's rest_api source over the same API into DuckDB, with the paginator set explicitly."""
    workdir = Path(config["workdir"])
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"  # no calls home from a benchmark
    os.environ["DLT_DATA_DIR"] = str(workdir / "dlt-data")
    import dlt  # imported here: dlt is an optional benchmark extra, never a portal dependency
    from dlt.sources.rest_api import rest_api_source

    token = _token(config)
    base = config["endpoints"]["api_base"]
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        accounts = client.get(f"{base}/accounts").json()["Data"]["Account"]
    source = rest_api_source(
        {
            "client": {
                "base_url": f"{base}/",
                "auth": {"type": "bearer", "token": token},
                # Explicit, never auto-detected: Open Banking puts the next page in Links.Next.
                "paginator": {"type": "json_link", "next_url_path": "Links.Next"},
            },
            "resource_defaults": {"write_disposition": "append"},
            "resources": [
                {
                    "name": f"transactions_{n}",
                    "table_name": "transactions",
                    "endpoint": {
                        "path": f"accounts/{account['AccountId']}/transactions",
                        "data_selector": "Data.Transaction",
                    },
                }
                for n, account in enumerate(accounts)
            ],
        }
    )
    database = workdir / "dlt.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name="portal_bench",
        destination=dlt.destinations.duckdb(str(database)),
        dataset_name="bank",
        pipelines_dir=str(workdir / "pipelines"),
    )
    clock = Clock()
    with clock.running():
        # jsonl, not dlt's default for DuckDB (INSERT statements): at 100,000 transactions
        # the default took 10 times as long and 4.5 GB, so it would flatter portal.
        pipeline.run(source, loader_file_format=config.get("format", "jsonl"))
    with pipeline.sql_client() as sql:
        counted = sql.execute_sql("SELECT count(*) FROM transactions")
    if not counted:
        raise SystemExit("dlt loaded no transactions table")
    [(count,)] = counted
    return clock.report(transactions=int(count))


RUNS: dict[str, Callable[[Config], dict[str, Any]]] = {
    "portal": run_portal,
    "fetch": run_fetch,
    "insert": run_insert,
    "dlt": run_dlt,
}


def main() -> None:
    """``runs.py KIND CONFIG_JSON``: run one measurement and print its JSON line last."""
    kind, config = sys.argv[1], json.loads(sys.argv[2])
    os.environ.setdefault("PORTAL_VAULT", "file")  # never the machine's keyring
    report = RUNS[kind](config)
    # With a writer process, the sync's memory is both processes': their peaks added (an
    # upper bound, as the two need not peak at the same moment).
    report["peak_rss_mb"] = peak_rss_mb() + report.get("writer_peak_rss_mb", 0.0)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
