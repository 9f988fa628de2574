"""``portal view``'s "What they do with my data" page: per provider, every purpose it uses the
person's data for (why, on what grounds, which data, who it is shared with and where, how
long it is kept, where it came from, what a computer decides), and every inference it made.

Real stores (the four demo sandboxes synced as ``portal sync --demo`` does; the Demo Bank
and "shady", a Demo Mart some of whose text is hostile, see ``view_shady``), the real
server on a real socket, and httpx as the browser. What the page says is checked against
the store's own Processing and Inference rows.
"""

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.record import CATEGORY_LABELS, Category, Inference, Processing
from portal.store import Store, sqlite_url
from portal.view import ViewServer
from view_homes import assert_guarded, browser

COUNTRIES = {
    "BE": "Belgium",
    "ES": "Spain",
    "GB": "United Kingdom",
    "IE": "Ireland",
    "NL": "Netherlands",
    "US": "United States",
    "ZA": "South Africa",
}
"""The countries the demo providers send data to, in words."""


@pytest.fixture(scope="module")
def demo(demo_home: Path) -> Iterator[tuple[Store, str]]:
    store = Store(sqlite_url(demo_home / "portal.db"), read_only=True)
    try:
        yield store, datause_page(store)
    finally:
        store.close()


def datause_page(store: Store) -> str:
    with ViewServer(store) as server, browser(server) as client:
        answer = client.get(server.url + "data-use")
    assert answer.status_code == 200, answer.text[:500]
    assert_guarded(answer)
    return answer.text


def text(fragment: str) -> str:
    """What a person reads in an HTML fragment: its text, unescaped, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def sections(page: str) -> dict[str, str]:
    """Each provider's part of the page, by the provider's name."""
    found = re.findall(
        r'<section class="provider datause"[^>]*>\s*<h2[^>]*>(.*?)</h2>(.*?)</section>', page, re.S
    )
    return {text(name): body for name, body in found}


def uses(part: str) -> dict[str, dict[str, str]]:
    """Each purpose a provider's part shows, by its record's portal id: what each line says."""
    found = {}
    for ident, body in re.findall(
        r'<article class="use" aria-labelledby="use-([^"]+)">(.*?)</article>', part, re.S
    ):
        said = {
            name: text(value)
            for name, value in re.findall(r'<dd class="(\w+)">(.*?)</dd>', body, re.S)
        }
        said["purpose"] = text(re.findall(r"<h4[^>]*>(.*?)</h4>", body, re.S)[0])
        said["html"] = body
        found[ident] = said
    return found


def test_every_purpose_of_every_provider_says_why_with_whom_where_and_how_long(
    demo: tuple[Store, str],
) -> None:
    store, page = demo
    notices = [Processing.model_validate(r) for r in store.rows(Processing)]
    assert len(notices) == 22  # bank 5, utility 5, telco 6, retailer 6
    parts = sections(page)
    assert sorted(parts) == sorted({n.provider for n in notices}) == list(parts)
    for provider, part in parts.items():
        shown = uses(part)
        mine = [n for n in notices if n.provider == provider]
        assert sorted(shown) == sorted(n.id for n in mine)
        for notice in mine:
            said = shown[notice.id]
            assert said["purpose"] == f"Why they use it: {notice.purpose}"
            assert f'href="/record/processing/{notice.id}"' in said["html"]
            assert said["basis"] == notice.legal_basis_label
            assert said["data"] == ", ".join(
                CATEGORY_LABELS[Category(c)] for c in notice.data_categories
            )
            for recipient in notice.recipients:
                assert recipient.country is not None
                where = f"{COUNTRIES[recipient.country]} ({recipient.country})"
                assert f"{recipient.name} · " in said["recipients"]
                assert where in said["recipients"]
                if recipient.safeguard:
                    assert f"protected by {recipient.safeguard}" in said["recipients"]
            if not notice.recipients:
                assert said["recipients"] == "No one, they say."
            assert said.get("abroad") == notice.third_country_safeguards
            assert said["kept"] == notice.retention
            assert said["source"] == notice.source
            if notice.automated_decision:
                assert said["automated"] == (
                    f"Yes. How: {notice.automated_logic}"
                    f" What it means for you: {notice.automated_consequences}"
                )
            else:
                assert said["automated"] == "No."


def test_the_recipients_countries_include_those_outside_the_uk(demo: tuple[Store, str]) -> None:
    store, page = demo
    abroad = {
        (n.provider, r.name, r.country)
        for n in (Processing.model_validate(row) for row in store.rows(Processing))
        for r in n.recipients
        if r.country != "GB"
    }
    assert {country for _, _, country in abroad} == {"BE", "ES", "IE", "NL", "US", "ZA"}
    parts = sections(page)
    for provider, name, country in abroad:
        assert f"{name} · " in text(parts[provider])
        assert f"{COUNTRIES[country]} ({country})" in text(parts[provider])


def test_each_provider_is_summed_up_first_whom_it_shares_with_and_where(
    demo: tuple[Store, str],
) -> None:
    store, page = demo
    notices = [Processing.model_validate(r) for r in store.rows(Processing)]
    for provider, part in sections(page).items():
        mine = [n for n in notices if n.provider == provider]
        names = {r.name for n in mine for r in n.recipients}
        codes = {r.country for n in mine for r in n.recipients if r.country}
        countries = sorted(f"{COUNTRIES[code]} ({code})" for code in codes)
        automated = sum(n.automated_decision for n in mine)
        [summary] = re.findall(r'<p class="summary">(.*?)</p>', part, re.S)
        assert text(summary) == (
            f"Uses your data for {len(mine)} purposes; shares it with {len(names)} recipients"
            f" in {', '.join(countries)}; {automated} of these uses"
            f" {'feeds' if automated == 1 else 'feed'} a decision made by a computer."
        )


def test_every_inference_is_a_row_with_its_score_when_and_from_what(
    demo: tuple[Store, str],
) -> None:
    store, page = demo
    inferred = [Inference.model_validate(r) for r in store.rows(Inference)]
    assert len(inferred) == 9  # telco 4, retailer 5; the bank and the utility state none
    parts = sections(page)
    for provider, part in parts.items():
        mine = {i.id: i for i in inferred if i.provider == provider}
        rows = re.findall(r'<tr class="inference">(.*?)</tr>', part, re.S)
        assert len(rows) == len(mine)
        if not mine:
            assert f"{provider} has shared nothing it inferred about you." in text(part)
        for row in rows:
            [ident] = re.findall(r'href="/record/inferences/([^"]+)"', row)
            made = mine.pop(ident)
            cells = [text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            assert made.derived_at is not None
            assert cells == [
                made.name,
                made.kind_label,
                made.value,
                "" if made.score is None else f"{made.score:,}",
                made.derived_at.astimezone().strftime("%Y-%m-%d"),
                made.explanation,
            ]
        assert not mine  # every inference was shown


def test_hostile_provider_text_is_shown_as_text_never_as_markup(shady_home: Path) -> None:
    store = Store(sqlite_url(shady_home / "portal.db"), read_only=True)
    try:
        page = datause_page(store)
        notices = [Processing.model_validate(r) for r in store.rows(Processing, "shady")]
    finally:
        store.close()
    shady = sections(page)["shady"]
    # A recipient of every purpose that has one, an inference's value and its explanation.
    recipients = sum(1 for n in notices if n.recipients)
    assert shady.count("&lt;script&gt;alert(") == recipients + 2
    assert "<script" not in page and "<b>bold" not in page
    assert "\u202e" not in page and "\\u202e" in page  # the bidi override shown, not obeyed


def test_an_empty_store_says_what_would_fill_the_page(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path / "portal.db"))
    try:
        page = datause_page(store)
    finally:
        store.close()
    assert "Nothing yet" in page and "privacy notice" in page and "portal connect" in page
