"""``portal report --out FILE.html``: the single view as one static file that never calls home.

Every report here is written by the real ``portal`` command (click's CliRunner) from a real
store: the four demo sandboxes synced through the real OAuth flow (``demo_home``), or the
Demo Bank beside a hostile copy of it. The file is parsed with html5lib in strict mode, so
a parse error fails the test, and every check reads the parsed document.
"""

import base64
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path
from xml.etree.ElementTree import Element

import html5lib
import pytest
from click.testing import CliRunner

from portal.cli import cli
from portal.record import Consent, Transaction
from portal.store import Store, sqlite_url
from portal.view.catalogue import PAGES
from portal.view.report import report_pages
from portal.view.sections import URL_ATTRIBUTES, Section
from view_homes import synced_home

XHTML = "{http://www.w3.org/1999/xhtml}"
REPORTED = report_pages(PAGES)


def run_report(home: Path, out: Path, *args: str) -> str:
    """``portal report --out out ARGS`` on the store in ``home``: what it printed."""
    result = CliRunner().invoke(
        cli, ["--home", str(home), "report", "--out", str(out), *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def parse(path: Path) -> Element:
    """The report at ``path``, parsed as a browser would, failing on any HTML parse error."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True)
    return parser.parse(path.read_bytes())


def tag(name: str) -> str:
    return f"{XHTML}{name}"


def section(document: Element, name: str) -> Element:
    found = [s for s in document.iter(tag("section")) if s.get("id") == name]
    assert len(found) == 1, f"sections named {name}: {len(found)}"
    return found[0]


def text(element: Element) -> str:
    return "".join(element.itertext())


@pytest.fixture(scope="module")
def whole(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store's whole report."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    run_report(demo_home, out)
    return out


@pytest.fixture
def store(demo_home: Path) -> Iterator[Store]:
    store = Store(sqlite_url(demo_home / "portal.db"), read_only=True)
    yield store
    store.close()


def test_the_report_has_a_section_and_a_contents_entry_per_page(whole: Path) -> None:
    document = parse(whole)
    assert REPORTED, "the catalogue holds no page for the report"
    contents = [a.get("href") for a in document.iter(tag("a"))]
    for page in REPORTED:
        part = section(document, page.name)
        assert text(part).strip(), f"the {page.name} section is empty"
        assert contents.count(f"#{page.name}") >= 2, page.name  # the bar and the contents
    # In the catalogue's order.
    order = [
        s.get("id") for s in document.iter(tag("section")) if "report-page" in s.get("class", "")
    ]
    assert order == [page.name for page in REPORTED]


def test_no_address_in_the_report_points_outside_it(whole: Path) -> None:
    document = parse(whole)
    ids = {element.get("id") for element in document.iter() if element.get("id")}
    addresses = []
    for element in document.iter():
        for name, value in element.attrib.items():
            local = name.split("}")[-1]
            if local in URL_ATTRIBUTES:
                addresses.append((element.tag, local, value))
    assert addresses, "no link at all: the contents should link to the sections"
    for element_tag, name, value in addresses:
        if value.startswith("#"):
            assert value[1:] in ids, f"{element_tag} {name}={value} names no element"
        else:
            assert value.startswith("data:"), f"{element_tag} {name}={value} points outside"
    style = "".join(text(s) for s in document.iter(tag("style")))
    for address in re.findall(r"url\(\s*['\"]?([^'\")]*)", style):
        assert address.startswith("data:"), address
    for kind in ("script", "link", "iframe", "object", "embed", "base", "form"):
        assert not list(document.iter(tag(kind))), f"the report has a <{kind}>"


def test_its_security_policy_allows_no_script_no_origin_and_only_its_own_style(
    whole: Path,
) -> None:
    document = parse(whole)
    metas = [
        m
        for m in document.iter(tag("meta"))
        if m.get("http-equiv", "").lower() == "content-security-policy"
    ]
    assert len(metas) == 1
    head = next(document.iter(tag("head")))
    assert list(head).index(metas[0]) < list(head).index(next(head.iter(tag("style"))))
    policy = dict(
        ([*part.strip().split(" ", 1), ""])[:2] for part in metas[0].get("content", "").split(";")
    )
    assert policy.pop("default-src") == "'none'"
    assert policy.pop("img-src") == "data:"
    styles = list(document.iter(tag("style")))
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(text(styles[0]).encode()).digest()).decode()
    assert policy.pop("style-src") == f"'sha256-{digest}'"
    # Whatever else it says only takes away: no source is allowed anywhere else.
    assert set(policy.values()) <= {"'none'"}, policy
    assert "@media print" in text(styles[0])  # no navigation bar and a page per section


def test_it_says_where_it_wrote_and_how_big_and_only_its_owner_can_read_it(
    demo_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "mine.html"
    out.write_text("an older report")
    said = run_report(demo_home, out)
    size = out.stat().st_size
    assert str(out) in said
    figure, unit = re.findall(r"\(([\d.]+) (bytes|kB|MB)\)", said)[0]
    scale = {"bytes": 1, "kB": 1000, "MB": 1_000_000}[unit]
    assert abs(float(figure) * scale - size) <= scale * 0.05, (said, size)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["mine.html"]  # no temporary file left behind
    assert size < 5_000_000


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("missing/report.html", "does not exist"),
        ("a-file/report.html", "is not a folder"),
        ("/proc/portal-report.html", "cannot be written"),  # not even root writes there
    ],
)
def test_an_unusable_folder_is_a_clear_error_and_nothing_is_written(
    demo_home: Path, tmp_path: Path, where: str, says: str
) -> None:
    (tmp_path / "a-file").write_text("a file, not a folder")
    out = tmp_path / where
    result = CliRunner().invoke(cli, ["--home", str(demo_home), "report", "--out", str(out)])
    assert result.exit_code == 3, result.output
    assert says in result.output and str(out) in result.output
    assert "--out" in result.output  # what to do about it
    assert not out.exists()


def test_a_provider_the_store_does_not_hold_is_named_in_the_error(
    demo_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r.html"
    args = ["--home", str(demo_home), "report", "--out", str(out), "--provider", "nobank"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 3
    assert "'nobank'" in result.output and "bank, retailer, telco, utility" in result.output
    assert not out.exists()


def test_provider_leaves_out_every_other_providers_records(
    demo_home: Path, store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "bank.html"
    run_report(demo_home, out, "--provider", "bank")
    document = parse(out)
    overview = section(document, "overview")
    assert [
        text(h).strip()
        for h in overview.iter(tag("h2"))
        if h.get("id", "").startswith("overview-provider")
    ] == ["bank"]
    permissions = section(document, "permissions")
    shown = [
        text(row.find(tag("th"))).strip()
        for row in permissions.iter(tag("tr"))
        if row.get("class") == "permission"
    ]
    assert shown == ["bank"] * sum(1 for _ in store.rows(Consent, "bank"))
    # ... and the whole report has them all.
    everyone = parse_overview_providers(whole_report(demo_home, tmp_path))
    assert everyone == sorted(store.counts())


def parse_overview_providers(path: Path) -> list[str]:
    overview = section(parse(path), "overview")
    return sorted(
        text(h).strip()
        for h in overview.iter(tag("h2"))
        if h.get("id", "").startswith("overview-provider")
    )


def whole_report(home: Path, tmp_path: Path) -> Path:
    out = tmp_path / "all.html"
    run_report(home, out)
    return out


def held(document: Element, provider: str, label: str) -> int:
    """The count the Overview shows for ``provider``'s ``label`` records."""
    overview = section(document, "overview")
    for part in overview.iter(tag("section")):
        heading = part.find(tag("h2"))
        if heading is not None and text(heading).strip() == provider:
            for row in part.iter(tag("tr")):
                cells = [text(c).strip() for c in row]
                if cells and cells[0] == label:
                    return int(cells[1])
    return 0


def test_since_leaves_out_dated_records_before_that_day(
    demo_home: Path, store: Store, tmp_path: Path
) -> None:
    booked = sorted(row["booked_at"] for row in store.rows(Transaction, "bank"))
    day = booked[len(booked) // 2].astimezone().date()
    start = datetime.combine(day, time.min).astimezone()
    expected = sum(1 for moment in booked if moment >= start)
    assert 0 < expected < len(booked)
    out = tmp_path / "since.html"
    run_report(demo_home, out, "--since", day.isoformat())
    document = parse(out)
    assert held(document, "bank", "Transactions") == expected
    assert held(parse(whole_report(demo_home, tmp_path)), "bank", "Transactions") == len(booked)
    assert day.isoformat() in text(document)  # it says what it left out


HOSTILE = "<script>alert('owned')</script><img src=https://evil.example/x.png>\u202ekcatta"

PLUGIN = f'''
"""The Demo Bank as "sly", one of whose marketing purposes is hostile markup."""
import dataclasses
from portal import hookimpl
from portal_bank import plugin as bank

SLY = dataclasses.replace(bank.PROVIDER, name="sly", display_name="Sly")

@hookimpl
def register_providers(register):
    register(SLY)

@hookimpl
def fetch(client, cursors):
    yield from bank.fetch(client, cursors)

@hookimpl
def normalise(stream, item, ref):
    if stream == "marketing" and item.get("PreferenceId") == "MP-001":
        item = {{**item, "Purpose": {HOSTILE!r}}}
    return bank.normalise(stream, item, ref)
'''


def test_provider_text_with_markup_is_text_in_the_report(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    home, results = synced_home(tmp_path_factory.mktemp("sly"), "sly", PLUGIN)
    assert all(result.ok for result in results.values()), results
    out = tmp_path / "sly.html"
    run_report(home, out, "--provider", "sly")
    document = parse(out)
    assert not list(document.iter(tag("script")))
    assert not [i for i in document.iter(tag("img")) if "evil" in i.get("src", "")]
    assert "<script>alert('owned')</script><img src=https://evil.example/x.png>" in text(
        section(document, "permissions")
    )
    assert "\u202e" not in out.read_text()  # the bidi override is shown, not obeyed


def test_a_section_keeps_only_addresses_inside_the_document() -> None:
    pages = {"/": "overview", "/permissions": "permissions"}
    page = """<!doctype html><html><head><link rel="stylesheet" href="/static/view.css">
    <link rel="stylesheet" href="/static/money.css"></head><body><nav><a href="/">not kept</a></nav>
    <main><h1 id="top">Money</h1>
    <a href="/permissions?provider=bank">to a section</a>
    <a href="/record/transactions/abc">a record</a>
    <a href="https://evil.example/">away</a><a href="//evil.example/">away</a>
    <a href="#top">up</a><span aria-labelledby="top other">x</span>
    <img src="/static/pixel.png" alt=""><img src="https://evil.example/p.png" alt="">
    <p style="color:red" onclick="x()">5 &lt; 6 &amp; 7</p>
    <form action="/search"><input name="q"></form><script>alert(1)</script>
    <svg viewBox="0 0 1 1"><title id="t">chart</title><circle r="1"/></svg>
    </main></body></html>"""
    section_ = Section(
        "money",
        lambda address: pages.get(address.split("?")[0]) and f"#{pages[address.split('?')[0]]}",
        {"pixel.png": b"\x89PNG"}.get,
    )
    section_.feed(page)
    section_.close()
    body = str(section_.body)
    assert section_.sheets == ["view.css", "money.css"]
    assert "not kept" not in body  # only what <main> holds
    assert '<h1 id="money-top">' in body
    assert '<a href="#permissions">to a section</a>' in body
    assert "<a>a record</a>" in body and body.count("<a>away</a>") == 2
    assert '<a href="#money-top">up</a>' in body
    assert 'aria-labelledby="money-top money-other"' in body
    assert '<img src="data:image/png;base64,iVBORw==" alt="">' in body
    assert '<img alt="">' in body
    assert "<p>5 &lt; 6 &amp; 7</p>" in body
    assert "form" not in body and "input" not in body and "script" not in body
    assert '<svg viewBox="0 0 1 1"><title id="money-t">chart</title><circle r="1"/></svg>' in body
