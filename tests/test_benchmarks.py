"""The sync benchmark runs end to end, on a bank that makes its transactions on demand.

No timing is asserted here: the figures belong to ``benchmarks/RESULTS.md``.
"""

import re
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

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


def test_the_sync_benchmark_runs_end_to_end_and_prints_every_figure() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--sizes", "300,600", "--page-size", "100", "--no-dlt"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for size in ("300", "600"):
        for run in (
            "portal sync",
            "portal re-sync, nothing new",
            "ceiling (a): httpx fetch only",
            "ceiling (b): SQLite executemany only",
        ):
            row = re.search(
                rf"^\| {size} \| {re.escape(run)} \| ([\d.]+) \| (.+?) \| (\d+) \| [\d.]+ \|$",
                out,
                re.M,
            )
            assert row, f"no {run} row for {size} in:\n{out}"
            assert float(row[1]) > 0 and int(row[3]) > 0
    for target in (
        "50% of the lower ceiling",
        "re-sync < 5%",
        "peak RSS < 200 MB",
        "peak RSS ≤ 1.2x",
    ):
        assert re.search(rf"^\| .*{re.escape(target)}.* \| (pass|MISS) \|$", out, re.M), target
    assert "dlt" not in out
