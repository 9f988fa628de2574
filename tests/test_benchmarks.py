"""The sync benchmark runs end to end, on a bank that makes its transactions on demand.

No timing is asserted here: the figures belong to ``benchmarks/RESULTS.md``.
"""

import importlib.util
import re
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

from portal_bank.bulk import BulkBank
from portal_bank.customer import signed

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "sync.py"


def test_bulk_bank_serves_exactly_the_size_asked_for_page_by_page() -> None:
    bank = BulkBank(transactions=2_500)
    served = []
    for account in (bank.current_id, bank.card_id):
        _, pages = bank.page(account, None, 1, 300)
        for number in range(1, pages + 1):
            served += bank.page(account, None, number, 300)[0]
        assert bank.page(account, None, pages + 1, 300)[0] == []
    assert len(served) == 2_500
    assert len({t["TransactionId"] for t in served}) == 2_500
    assert served == bank.transactions(bank.current_id) + bank.transactions(bank.card_id)


def test_bulk_bank_running_balances_add_up_to_the_balances_it_states() -> None:
    bank = BulkBank(transactions=3_000)
    for account in (bank.current_id, bank.card_id):
        items = bank.transactions(account)
        running = bank.opening[account]
        for item in items:
            running += signed(item)
            assert signed(item["Balance"]) == running
        stated = {b["Type"]: signed(b) for b in bank.balances(account)}
        assert stated["InterimBooked"] == running
        assert stated["OpeningBooked"] == bank.opening[account]
        times = [datetime.fromisoformat(t["BookingDateTime"]) for t in items]
        assert times == sorted(times)
        assert isinstance(running, Decimal)


def test_bulk_bank_filters_by_booking_time_and_grows_with_activity() -> None:
    bank = BulkBank(transactions=1_000)
    items = bank.transactions(bank.current_id)
    since = datetime.fromisoformat(items[-10]["BookingDateTime"])
    assert bank.transactions(bank.current_id, since) == items[-10:]
    added = bank.add_activity(5)
    assert bank.transactions(bank.current_id, since) == items[-10:] + added
    assert len(added) == 5
    assert {b["DateTime"] for b in bank.balances(bank.current_id)} - {
        b["DateTime"] for b in bank.published_balances()
    } == set()


def _benchmark_module(path: Path = SCRIPT) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"benchmark_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def test_the_sync_benchmark_runs_end_to_end_and_prints_every_figure() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--sizes", "400", "--page-size", "100", "--no-dlt"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for run in (
        "portal sync",
        "portal re-sync, nothing new",
        "ceiling (a): httpx fetch only",
        "ceiling (b): SQLite executemany only",
    ):
        row = re.search(
            rf"^\| 400 \| {re.escape(run)} \| ([\d.]+) \| (.+?) \| ([\d.]+) \| ([\d.]+|-)"
            r" \| (\d+) \| [\d.]+ \|$",
            out,
            re.M,
        )
        assert row, f"no {run} row in:\n{out}"
        assert float(row[1]) > 0 and float(row[3]) > 0 and int(row[5]) > 0
        if "ceiling (b)" not in run:  # the only run that does not touch the sandbox
            assert float(row[4]) > 0
    for target in ("50% of the lower ceiling", "re-sync < 5%", "peak RSS < 200 MB"):
        assert re.search(rf"^\| .*{re.escape(target)}.* \| (pass|MISS) \|$", out, re.M), target
    bound = re.search(
        r"^\| 400 \| portal sync \| (\d+) \| (\d+) \| ([\d,]+) \| ([\d,]+) \|$", out, re.M
    )
    assert bound, f"no bound for portal's sync in:\n{out}"
    assert int(bound[1]) > 0 and int(bound[2]) > 0
    assert "dlt" not in out


def test_the_bound_is_the_cpu_of_the_run_and_the_sandbox_spread_over_the_cores() -> None:
    bench = _benchmark_module()
    runs = [
        # 100 records, 10 ms of CPU (100 µs each) and 30 ms of the sandbox's (300 µs each)
        bench.Run(100, "portal", 100, 0.05, 100.0, 0.0, 0.01, 0.03),
        bench.Run(100, "dlt", 100, 0.08, 100.0, 0.0, 0.05, 0.03),
        bench.Run(100, "fetch", 100, 0.01, 100.0, 0.0, 0.001, 0.03),
    ]
    rows = bench.bounds(runs, 2).splitlines()[2:]
    assert rows == [
        "| 100 | portal sync | 100 | 300 | 5,000 | 2,000 |",  # 2 cores / 400 µs
        "| 100 | dlt rest_api → DuckDB | 500 | 300 | 2,500 | 1,250 |",
    ]


def test_the_targets_are_judged_on_the_figures_of_the_same_size() -> None:
    bench = _benchmark_module()
    run = bench.Run
    runs = [
        run(10, "fetch", 10, 1.0, 90.0, 0.0, 0.0, 0.0),
        run(10, "insert", 10, 0.5, 90.0, 0.0, 0.0, 0.0),
        run(10, "portal", 10, 2.0, 100.0, 0.0, 0.0, 0.0),  # 5/s: half the fetch ceiling of 10/s
        run(10, "resync", 0, 0.099, 95.0, 0.0, 0.0, 0.0),  # just under 5% of 2 s
        run(10, "dlt", 10, 4.0, 300.0, 0.0, 0.0, 0.0),  # 2.5/s: portal is exactly 2x
        run(100, "fetch", 100, 1.0, 90.0, 0.0, 0.0, 0.0),
        run(100, "insert", 100, 1.0, 90.0, 0.0, 0.0, 0.0),
        run(100, "portal", 100, 25.0, 121.0, 0.0, 0.0, 0.0),  # 4/s: under half of 100/s
        run(100, "resync", 0, 2.0, 95.0, 0.0, 0.0, 0.0),
        run(100, "dlt", 100, 10.0, 300.0, 0.0, 0.0, 0.0),  # 10/s: portal is slower
    ]
    verdicts = {
        line.split(" | ")[0].strip("| "): line.rsplit(" | ", 1)[1].strip(" |")
        for line in bench.targets(runs).splitlines()[2:]
    }
    assert verdicts == {
        "10: records/s ≥ 2x dlt's": "pass",
        "10: records/s ≥ 50% of the lower ceiling": "pass",
        "10: re-sync < 5% of the first sync": "pass",
        "100: records/s ≥ 2x dlt's": "MISS",
        "100: records/s ≥ 50% of the lower ceiling": "MISS",
        "100: re-sync < 5% of the first sync": "MISS",
        "100: peak RSS < 200 MB": "pass",
        "100: peak RSS ≤ 1.2x the peak at 10": "MISS",  # 121 MB against 1.2 x 100 MB
    }


def test_thread_cpu_counts_each_of_portal_s_threads_under_its_role() -> None:
    import threading
    import time

    runs = _benchmark_module(SCRIPT.with_name("runs.py"))

    def spin(seconds: float) -> None:
        until = time.thread_time() + seconds
        while time.thread_time() < until:
            pass

    original = threading.Thread.run
    with runs.ThreadCPU() as cpu:
        for name, seconds in (("portal-fetch", 0.3), ("portal-deliver-bank", 0.1)):
            worker = threading.Thread(target=spin, args=(seconds,), name=name)
            worker.start()
            worker.join()
    outside = threading.Thread(target=spin, args=(0.1,), name="sync-bank")
    outside.start()
    outside.join()  # after the block: not counted
    roles = cpu.by_role()
    assert 0.3 <= roles["fetch"] <= 0.35, roles
    assert 0.1 <= roles["deliver"] <= 0.15, roles
    assert roles["main"] < 0.05 and "normalise" not in roles, roles
    assert threading.Thread.run is original  # put back as it was


def test_the_thread_table_gives_each_thread_s_cpu_per_record() -> None:
    bench = _benchmark_module()
    threads = {"fetch": 0.02, "normalise": 0.04, "deliver": 0.03, "writer": 0.005, "main": 0.001}
    run = bench.Run(1000, "portal", 1000, 0.1, 100.0, 0.0, 0.096, 0.03, threads)
    rows = bench.threads_table([run, bench.Run(1000, "dlt", 1000, 0.1, 1.0, 0.0, 0.1, 0.1)])
    assert rows.splitlines()[2:] == ["| 1,000 | 20 | 40 | 30 | 5 | 1 | 0 | 96 | 30 |"]


def test_writing_indexes_in_key_order_ends_with_the_same_tables() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT.with_name("index_order.py")),
            "--rows",
            "3000",
            "--merge",
            "1000",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = re.findall(
        r"^\| (direct|staged) \| 3,000 \| [\d.]+ \| [\d.]+ \| ([0-9a-f]{16}) \|$", done.stdout, re.M
    )
    assert [way for way, _ in rows] == ["direct", "staged"], done.stdout
    assert rows[0][1] == rows[1][1]  # the same raw payloads and transactions, byte for byte


UNDERSTAND = SCRIPT.with_name("understand.py")


def test_the_understanding_benchmark_times_each_step_of_each_run() -> None:
    done = subprocess.run(
        [sys.executable, str(UNDERSTAND), "--rows", "300", "--page-size", "100"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for run in ("(a) first sync", "(b) re-sync, nothing new", "(c) understand --again"):
        row = re.search(
            rf"^\| 300 \| {re.escape(run)} \| ([\d.]+) \| ([\d.]+|-) \| ([\d.]+) \| ([\d.]+)"
            r" \| (\d+) \|$",
            out,
            re.M,
        )
        assert row, f"no {run} row in:\n{out}"
        assert float(row[1]) >= float(row[3]) >= float(row[4]) > 0  # the probe ran in each
        assert int(row[5]) > 0
    # Every registered step and the probe, with its seconds in each of the three runs.
    import portal.understand

    for step in [*portal.understand.step_names(), "probe"]:
        assert re.search(rf"^\| 300 \| {step} \| [\d.]+ \| [\d.]+ \| [\d.]+ \|$", out, re.M), step
    verdict = r"for reference \((pass|MISS) at this size\)"  # the target is at a million
    assert re.search(rf"^\| 300: re-sync with understanding < 5% .* \| {verdict} \|$", out, re.M)


def test_the_understanding_target_leaves_the_probe_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(UNDERSTAND.parent))  # it imports runs and sync beside it
    bench = _benchmark_module(UNDERSTAND)
    run = bench.Run
    runs = [
        # 10 s first sync; a re-sync of 0.4 s plus a probe of 0.2 s: 4% without it, 6% with
        run(10, "first", 10.0, 1.0, 100.0, {"probe": 0.0, "categories": 1.0}),
        run(10, "resync", 0.6, 0.3, 90.0, {"probe": 0.2, "categories": 0.1}),
        run(1_000_000, "first", 10.0, 1.0, 100.0, {"probe": 0.0}),
        run(1_000_000, "resync", 0.6, 0.3, 90.0, {"probe": 0.05}),  # 5.5%: a miss
    ]
    verdicts = [line.rsplit(" | ", 1)[1].strip(" |") for line in bench.targets(runs).splitlines()]
    assert verdicts[2:] == ["for reference (pass at this size)", "MISS"]
    steps = bench.steps_table(runs).splitlines()[2:]
    assert steps[:2] == [
        "| 10 | probe | 0.0000 | 0.2000 | - |",
        "| 10 | categories | 1.0000 | 0.1000 | - |",
    ]
