"""Memory and time of ``portal import`` on a large OFX and a large midata CSV.

    python benchmarks/imports.py [--ofx-mb 20] [--csv-mb 13] [--keep DIR]

Generates an OFX 1.02 SGML statement (value elements unclosed, CRLF, as banks write it)
of about ``--ofx-mb`` MB and a midata CSV of about ``--csv-mb`` MB, then imports each into
a fresh store in a fresh process, twice: once for the time and the peak RSS (the process's
``ru_maxrss``, which includes Python, SQLite and the loaded plugins; the CPU time, which
other work on a shared machine does not inflate as it does the wall time), once under
``tracemalloc`` for the peak of Python allocations during the import itself. Also imports
a file a quarter of the size, so the growth with the file's size shows. Figures go in
``benchmarks/RESULTS.md``; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path


def ofx_file(path: Path, megabytes: float) -> int:
    """An SGML OFX statement of about ``megabytes`` MB; returns its number of transactions."""
    header = (
        "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\n"
        "CHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n"
        "<OFX>\r\n<SIGNONMSGSRSV1>\r\n<SONRS>\r\n<STATUS>\r\n<CODE>0\r\n<SEVERITY>INFO\r\n"
        "</STATUS>\r\n<DTSERVER>20260228093012\r\n<LANGUAGE>ENG\r\n<FI>\r\n<ORG>Big Bank\r\n"
        "<FID>1\r\n</FI>\r\n</SONRS>\r\n</SIGNONMSGSRSV1>\r\n<BANKMSGSRSV1>\r\n<STMTTRNRS>\r\n"
        "<TRNUID>1\r\n<STATUS>\r\n<CODE>0\r\n<SEVERITY>INFO\r\n</STATUS>\r\n<STMTRS>\r\n"
        "<CURDEF>GBP\r\n<BANKACCTFROM>\r\n<BANKID>203206\r\n<ACCTID>40457713\r\n"
        "<ACCTTYPE>CHECKING\r\n</BANKACCTFROM>\r\n<BANKTRANLIST>\r\n<DTSTART>20200101\r\n"
        "<DTEND>20260228\r\n"
    )
    footer = (
        "</BANKTRANLIST>\r\n<LEDGERBAL>\r\n<BALAMT>1904.18\r\n<DTASOF>20260228\r\n"
        "</LEDGERBAL>\r\n</STMTRS>\r\n</STMTTRNRS>\r\n</BANKMSGSRSV1>\r\n</OFX>\r\n"
    )
    target = int(megabytes * 1_000_000)
    count = 0
    with path.open("w", encoding="cp1252", newline="") as out:
        out.write(header)
        size = len(header)
        while size < target:
            count += 1
            day = f"2020{1 + count % 12:02d}{1 + count % 28:02d}"
            block = (
                f"<STMTTRN>\r\n<TRNTYPE>POS\r\n<DTPOSTED>{day}\r\n"
                f"<TRNAMT>-{count % 997}.{count % 100:02d}\r\n<FITID>{count:012d}\r\n"
                f"<NAME>SHOP NUMBER {count % 5000}\r\n"
                f"<MEMO>CARD 2291 LONDON SE{count % 30} REF {count}\r\n</STMTTRN>\r\n"
            )
            out.write(block)
            size += len(block)
        out.write(footer)
    return count


def midata_file(path: Path, megabytes: float, unordered: bool = False) -> int:
    """A midata CSV of about ``megabytes`` MB, forty rows a day in date order; returns its
    number of transactions. (``--unordered`` shuffles the days: see ``portal_files.midata``.)"""
    target = int(megabytes * 1_000_000)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        line = "Date,Type,Merchant/Description,Debit/Credit,Balance\r\n"
        out.write(line)
        size = len(line)
        balance = 1_000_000
        while size < target:
            count += 1
            amount = -(count % 9973)
            balance += amount
            days = count % 3650 if unordered else count // 40  # in date order, as banks write
            day = date(2015, 1, 1) + timedelta(days=days)
            line = (
                f"{day:%d/%m/%Y},POS,"
                f'"\'2291 {count % 31:02d}JAN26 CD , SHOP {count % 5000} , LONDON GB",'
                f"-£{-amount // 100}.{-amount % 100:02d},£{balance // 100}.{balance % 100:02d}\r\n"
            )
            out.write(line)
            size += len(line.encode())
    return count


def measure(path: Path, home: Path, traced: bool) -> dict[str, float]:
    """Import ``path`` into a fresh store at ``home`` in this process; the figures."""
    import tracemalloc

    from portal.app import Portal
    from portal.importing import import_file

    with Portal.open(home=home) as portal:
        if traced:
            tracemalloc.start()
        start, cpu = time.perf_counter(), time.process_time()
        result = import_file(portal, path)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
        tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    return {
        "records": sum(result.records.values()),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": rss,
        "traced_peak_mb": peak / 1e6,
    }


def _child(path: Path, home: Path, traced: bool) -> dict[str, float]:
    command = [sys.executable, __file__, "--one", str(path), str(home)]
    if traced:
        command.append("--traced")
    done = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    """Generate the files, import each in fresh processes, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ofx-mb", type=float, default=20.0)
    parser.add_argument("--csv-mb", type=float, default=13.0)
    parser.add_argument("--keep", type=Path, help="Write the files here and keep them.")
    parser.add_argument(
        "--unordered", action="store_true", help="Write the midata CSV out of date order."
    )
    parser.add_argument("--one", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], args.one[1], args.traced)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for fraction in (0.25, 1.0):
            path = folder / f"big-{args.ofx_mb * fraction:g}mb.ofx"
            files.append((path, ofx_file(path, args.ofx_mb * fraction)))
        for fraction in (0.25, 1.0):
            path = folder / f"big-{args.csv_mb * fraction:g}mb.csv"
            files.append((path, midata_file(path, args.csv_mb * fraction, args.unordered)))
        print(
            f"{'file':<18}{'MB':>7}{'rows':>9}{'s':>8}{'CPU s':>8}{'rows/CPU s':>11}"
            f"{'RSS MB':>8}{'traced MB':>11}"
        )
        for path, count in files:
            plain = _child(path, Path(scratch) / f"home-{path.name}", traced=False)
            traced = _child(path, Path(scratch) / f"home-traced-{path.name}", traced=True)
            megabytes = path.stat().st_size / 1e6
            print(
                f"{path.name:<18}{megabytes:>7.1f}{count:>9}{plain['seconds']:>8.1f}"
                f"{plain['cpu_seconds']:>8.1f}{count / plain['cpu_seconds']:>11.0f}"
                f"{plain['peak_rss_mb']:>8.0f}"
                f"{traced['traced_peak_mb']:>11.1f}"
            )


if __name__ == "__main__":
    main()
