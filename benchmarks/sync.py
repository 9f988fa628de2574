"""How fast portal syncs, and how that compares with what the machine and dlt can do.

    python benchmarks/sync.py [--sizes 10000,100000,1000000] [--page-size 1000] [--no-dlt]

For each size it starts the Demo Bank sandbox serving that many transactions (made on
demand, ``portal_bank.bulk``) in this process, then measures, each in a process of its own
so the peak RSS is that run's alone (``benchmarks/runs.py``):

- portal: a first ``Portal.sync`` into a fresh SQLite store, connected through the real
  OAuth flow, then a re-sync with nothing new;
- ceiling (a): the pages fetched with plain httpx, JSON decoded and nothing more;
- ceiling (b): the same rows inserted into SQLite with executemany in one transaction;
- dlt: its ``rest_api`` source over the same API into DuckDB (``pip install -e '.[bench]'``;
  left out with ``--no-dlt`` or when dlt is not installed).

It prints the figures and the targets of issue 4 with pass or miss, as Markdown, and what
this machine's cores allow at best: the CPU seconds each run and the sandbox used, spread
over every core, beside how much work two CPU-bound processes get done here at once; and
where portal's CPU goes, thread by thread (fetch, normalise, deliver), per record.
``--profile SIZE`` adds a cProfile of portal's sync at that size (one of ``--sizes``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portal.provider import sandbox_endpoints
from portal_bank.sandbox import BankSandbox

RUNS = Path(__file__).with_name("runs.py")
LABELS = {
    "portal": "portal sync",
    "resync": "portal re-sync, nothing new",
    "fetch": "ceiling (a): httpx fetch only",
    "insert": "ceiling (b): SQLite executemany only",
    "dlt": "dlt rest_api → DuckDB",
}


@dataclass
class Run:
    """One measured run: what it handled, how long the measured part took, its peak RSS."""

    size: int
    kind: str
    transactions: int
    seconds: float
    peak_rss_mb: float
    load: float
    """The machine's 1-minute load average as the run started (2 cores: above 1, it had company)."""
    cpu: float
    """CPU seconds the run's process used in its measured part (every thread, any child)."""
    sandbox_cpu: float
    """CPU seconds the sandbox (this process) used while the run's process ran."""
    threads: dict[str, float] = field(default_factory=dict)
    """portal's runs: CPU seconds by thread (fetch, normalise, deliver, main, other) and of
    the store's writer process (writer)."""

    @property
    def rate(self) -> float:
        """Transactions per second."""
        return self.transactions / self.seconds if self.seconds else 0.0


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(
    kind: str, config: dict[str, Any], timeout: float, script: Path = RUNS
) -> dict[str, Any]:
    """Run ``runs.py KIND`` (or another ``script`` of this folder that takes the same
    arguments) in a fresh process; its last stdout line is the JSON report.

    The report gains ``sandbox_cpu_seconds``: what this process, which serves the sandbox,
    used meanwhile (the sandbox's threads; this one only waits).
    """
    before = _own_cpu()
    done = subprocess.run(  # noqa: S603 - this interpreter running this folder's scripts
        [sys.executable, str(script), kind, json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"The {kind} run failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report["sandbox_cpu_seconds"] = _own_cpu() - before
    return report


def bench_size(
    size: int, args: argparse.Namespace, workdir: Path
) -> tuple[list[Run], float, str | None]:
    """Every run at one size against one sandbox; the sandbox's setup time; a profile."""
    runs: list[Run] = []
    profile = None
    started = time.perf_counter()
    sandbox = BankSandbox(transactions=size, page_size=args.page_size)
    setup = time.perf_counter() - started
    with sandbox:
        base = {"endpoints": sandbox_endpoints(sandbox)}
        here = workdir / str(size)
        home = here / "portal"
        plan: list[tuple[str, str, dict[str, Any]]] = [
            ("fetch", "fetch", {}),
            ("portal", "portal", {"home": str(home)}),
            ("resync", "portal", {"home": str(home)}),
            ("insert", "insert", {"source": str(home / "portal.db"), "target": str(here / "b.db")}),
        ]
        if args.dlt:
            plan.append(("dlt", "dlt", {"workdir": str(here / "dlt"), "format": args.dlt_format}))
        for name, kind, extra in plan:
            load = os.getloadavg()[0]
            report = measure(kind, base | extra, args.timeout)
            count = report["transactions"]
            if name != "resync" and count != size:
                raise SystemExit(f"The {name} run handled {count} transactions, not {size}.")
            if name == "portal" and report["stored"] != size:
                raise SystemExit(f"portal stored {report['stored']} transactions, not {size}.")
            runs.append(
                Run(
                    size,
                    name,
                    count,
                    report["seconds"],
                    report["peak_rss_mb"],
                    load,
                    report["cpu_seconds"],
                    report["sandbox_cpu_seconds"],
                    report.get("threads", {}),
                )
            )
            print(f"  {size:>9,} {LABELS[name]:<38} {report['seconds']:8.2f} s", file=sys.stderr)
        if args.profile == size:
            config = base | {"home": str(here / "profiled"), "profile": True}
            profile = measure("portal", config, args.timeout)["profile"]
    return runs, setup, profile


def table(runs: list[Run], setups: dict[int, float]) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| transactions | run | seconds | records/s | CPU s | sandbox CPU s"
        " | peak RSS (MB) | load before |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        rate = f"{run.rate:,.0f}" if run.kind != "resync" else f"({run.transactions} new)"
        sandbox = f"{run.sandbox_cpu:.3f}" if run.kind != "insert" else "-"
        lines.append(
            f"| {run.size:,} | {LABELS[run.kind]} | {run.seconds:.3f} | {rate}"
            f" | {run.cpu:.3f} | {sandbox} | {run.peak_rss_mb:.0f} | {run.load:.2f} |"
        )
    setup = ", ".join(f"{size:,}: {seconds:.2f} s" for size, seconds in setups.items())
    lines += ["", f"Sandbox set-up (not measured in any run): {setup}."]
    return "\n".join(lines)


def targets(runs: list[Run]) -> str:
    """Issue 4's targets, each with the figures behind it and pass or miss."""
    by = {(r.size, r.kind): r for r in runs}
    sizes = sorted({r.size for r in runs})
    rows: list[tuple[str, str, bool]] = []
    for size in sizes:
        portal, resync = by[size, "portal"], by[size, "resync"]
        if (size, "dlt") in by:
            dlt = by[size, "dlt"]
            rows.append(
                (
                    f"{size:,}: records/s ≥ 2x dlt's",
                    f"{portal.rate:,.0f} vs 2 x {dlt.rate:,.0f} = {2 * dlt.rate:,.0f}"
                    f" ({portal.rate / dlt.rate:.2f}x)",
                    portal.rate >= 2 * dlt.rate,
                )
            )
        ceiling = min(by[size, "fetch"].rate, by[size, "insert"].rate)
        rows.append(
            (
                f"{size:,}: records/s ≥ 50% of the lower ceiling",
                f"{portal.rate:,.0f} vs {ceiling:,.0f} ({portal.rate / ceiling:.0%})",
                portal.rate >= ceiling / 2,
            )
        )
        rows.append(
            (
                f"{size:,}: re-sync < 5% of the first sync",
                f"{resync.seconds:.2f} s vs {portal.seconds:.2f} s"
                f" ({resync.seconds / portal.seconds:.1%})",
                resync.seconds < 0.05 * portal.seconds,
            )
        )
    largest = sizes[-1]
    peak = max(by[largest, "portal"].peak_rss_mb, by[largest, "resync"].peak_rss_mb)
    rows.append((f"{largest:,}: peak RSS < 200 MB", f"{peak:.0f} MB", peak < 200))
    if len(sizes) > 1:
        before = sizes[-2]
        earlier = max(by[before, "portal"].peak_rss_mb, by[before, "resync"].peak_rss_mb)
        rows.append(
            (
                f"{largest:,}: peak RSS ≤ 1.2x the peak at {before:,}",
                f"{peak:.0f} MB vs {earlier:.0f} MB ({peak / earlier:.2f}x)",
                peak <= 1.2 * earlier,
            )
        )
    lines = ["| target | measured | |", "| --- | --- | --- |"]
    lines += [f"| {what} | {figures} | {'pass' if ok else 'MISS'} |" for what, figures, ok in rows]
    return "\n".join(lines)


def bounds(runs: list[Run], cores: int) -> str:
    """The fastest each sync could be here: its CPU and the sandbox's, spread over every core.

    A run cannot beat ``(its CPU seconds + the sandbox's) / cores`` however well it overlaps
    its work, since the sandbox shares the machine. A target above that bound needs less CPU
    per record, not more parallelism.
    """
    by = {(r.size, r.kind): r for r in runs}
    lines = [
        f"| transactions | run | CPU µs per record | sandbox CPU µs per record"
        f" | at best on {cores} cores (records/s) | measured (records/s) |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for (size, kind), run in by.items():
        if kind not in ("portal", "dlt") or not run.transactions:
            continue
        per = run.cpu / run.transactions
        sandbox = run.sandbox_cpu / run.transactions
        lines.append(
            f"| {size:,} | {LABELS[kind]} | {per * 1e6:.0f} | {sandbox * 1e6:.0f}"
            f" | {cores / (per + sandbox):,.0f} | {run.rate:,.0f} |"
        )
    return "\n".join(lines)


THREADS = ("fetch", "normalise", "deliver", "writer", "main", "other")


def threads_table(runs: list[Run]) -> str:
    """CPU µs per record of each of portal's threads, for each first sync."""
    lines = [
        "| transactions | " + " | ".join(THREADS) + " | all of portal | sandbox |",
        "| ---: |" + " ---: |" * (len(THREADS) + 2),
    ]
    for run in runs:
        if run.kind != "portal" or not run.threads or not run.transactions:
            continue
        per = [run.threads.get(name, 0.0) / run.transactions * 1e6 for name in THREADS]
        cells = " | ".join(f"{value:.0f}" for value in per)
        lines.append(
            f"| {run.size:,} | {cells} | {run.cpu / run.transactions * 1e6:.0f}"
            f" | {run.sandbox_cpu / run.transactions * 1e6:.0f} |"
        )
    return "\n".join(lines)


SPIN = """
import time
started = time.perf_counter()
total = 0
for i in range({n}):
    total += i * i
print(time.perf_counter() - started)
"""
"""A CPU-bound Python loop that prints how long it took."""


def parallelism(n: int = 10_000_000) -> float:
    """How many cores' worth of work this machine gives two CPU-bound processes at once.

    2.0 on two real, idle cores; less where the two are hyperthreads of one core or the
    host is shared. It bounds what overlapping fetching, normalising and writing can gain.
    """

    def start() -> subprocess.Popen[str]:
        command = [sys.executable, "-c", SPIN.format(n=n)]
        return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603

    # Best of three each way: a core's clock and its neighbours on the host both drift, and
    # one slow run alone would make the pair look more than twice as fast.
    alone = min(float(start().communicate()[0]) for _ in range(3))
    pairs = []
    for _ in range(3):
        together = [start() for _ in range(2)]
        pairs.append(sum(alone / float(p.communicate()[0]) for p in together))
    return max(pairs)


def machine() -> str:
    """Where the figures came from: Python, cores and memory (psutil, when installed)."""
    python = f"{platform.python_implementation()} {platform.python_version()}"
    try:
        import psutil
    except ImportError:
        return f"{python}, {os.cpu_count()} cores"
    memory = psutil.virtual_memory().total / 2**30
    return f"{python}, {psutil.cpu_count()} cores, {memory:.0f} GB, {platform.machine()}"


def revision() -> str:
    """The commit the figures are of, marked dirty if the tree had uncommitted changes."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            cwd=RUNS.parent,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "(not a git checkout)"
    return done.stdout.strip()


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="10000,100000,1000000",
        type=lambda text: [int(s) for s in text.split(",")],
        help="transactions the sandbox serves, comma separated (default: %(default)s)",
    )
    parser.add_argument("--page-size", type=int, default=1000, help="transactions per page")
    parser.add_argument("--no-dlt", dest="dlt", action="store_false", help="leave dlt out")
    parser.add_argument(
        "--dlt-format",
        default="jsonl",
        choices=["jsonl", "insert_values", "parquet"],
        help="dlt's loader file format (default: %(default)s; parquet needs pyarrow)",
    )
    parser.add_argument("--profile", type=int, metavar="SIZE", help="cProfile portal at SIZE")
    parser.add_argument("--workdir", type=Path, help="keep the stores here (default: a temp dir)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per run")
    args = parser.parse_args(argv)
    if args.dlt and importlib.util.find_spec("dlt") is None:
        print("dlt is not installed (pip install -e '.[bench]'): leaving it out.", file=sys.stderr)
        args.dlt = False
    if args.profile is not None and args.profile not in args.sizes:
        parser.error("--profile must be one of --sizes")
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the figures and the targets."""
    args = parse(argv)
    runs: list[Run] = []
    setups: dict[int, float] = {}
    profiles: dict[int, str] = {}
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as scratch:
        workdir = args.workdir or Path(scratch)
        for size in args.sizes:
            done, setups[size], profile = bench_size(size, args, workdir)
            runs += done
            if profile:
                profiles[size] = profile
    dlt = f", dlt loader file format {args.dlt_format}" if args.dlt else ""
    print(f"## Figures ({machine()}; portal {revision()}; page size {args.page_size}{dlt})\n")
    print(table(runs, setups))
    print("\n## Targets\n")
    print(targets(runs))
    cores = os.cpu_count() or 1
    print(f"\n## What {cores} cores allow\n")
    print(bounds(runs, cores))
    print(
        f"\nTwo CPU-bound processes at once did {parallelism():.2f} cores' worth of work here"
        " (2.00 on two idle cores of their own)."
    )
    print("\n## Where portal's CPU goes (µs per record, by thread)\n")
    print(threads_table(runs))
    for size, profile in profiles.items():
        print(f"\n## Profile of portal's sync at {size:,}\n\n```\n{profile.strip()}\n```")


if __name__ == "__main__":
    main()
