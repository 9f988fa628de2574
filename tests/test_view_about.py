"""``portal view``'s About me page: the personal details each provider holds, side by side,
with exactly the details the providers disagree on marked and said in words.

Real stores (the four demo sandboxes synced as ``portal sync --demo`` does; the Demo Bank
and "shady", a Demo Mart whose customer differs from the bank's in known ways, see
``view_shady``), the real server on a real socket, and httpx as the browser. What the page
says is checked against the store's own Party rows.
"""

import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from portal.record import Party
from portal.shown import shown
from portal.store import Store, sqlite_url
from portal.view import ViewServer
from view_homes import assert_guarded, browser
from view_shady import OLD_ADDRESS

FIELDS = {
    "Full name": "full_name",
    "Legal name": "legal_name",
    "Birth date": "birth_date",
    "Email": "email",
    "Phone": "phone",
    "Mobile": "mobile",
    "Customer number": "customer_number",
}


@pytest.fixture(scope="module")
def demo(demo_home: Path) -> Iterator[tuple[Store, ViewServer]]:
    store = Store(sqlite_url(demo_home / "portal.db"), read_only=True)
    with ViewServer(store) as server:
        yield store, server
    store.close()


@pytest.fixture(scope="module")
def shady(shady_home: Path) -> Iterator[tuple[Store, ViewServer]]:
    store = Store(sqlite_url(shady_home / "portal.db"), read_only=True)
    with ViewServer(store) as server:
        yield store, server
    store.close()


def about_page(server: ViewServer) -> str:
    with browser(server) as client:
        answer = client.get(server.url + "about")
    assert answer.status_code == 200, answer.text[:500]
    assert_guarded(answer)
    return answer.text


def text(fragment: str) -> str:
    """What a person reads in an HTML fragment: its text, unescaped, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


class Table:
    """The page's table as a person reads it: providers across, details down."""

    def __init__(self, page: str) -> None:
        head = re.search(r"<thead>(.*?)</thead>", page, re.S)
        assert head is not None
        self.providers = [
            text(h) for h in re.findall(r'<th scope="col" class="holder">(.*?)</th>', head[1], re.S)
        ]
        self.rows: dict[str, list[str]] = {}
        self.differs: dict[str, bool] = {}
        for row in re.findall(r'<tr class="detail[^"]*">.*?</tr>', page, re.S):
            label = text(re.findall(r'<th scope="row">(.*?)</th>', row, re.S)[0])
            self.rows[label] = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            self.differs[label] = 'class="detail differs"' in row

    def values(self, label: str, provider: str) -> list[str]:
        """The values a provider's cell shows for a detail ([] when "not held")."""
        cell = self.rows[label][self.providers.index(provider)]
        return [text(v) for v in re.findall(r'<span class="value">(.*?)</span>', cell, re.S)]

    def marked(self, label: str) -> dict[str, list[str]]:
        """The values marked as differing, by provider."""
        found = {}
        for provider, cell in zip(self.providers, self.rows[label], strict=False):
            marks = [text(m) for m in re.findall(r"<mark>(.*?)</mark>", cell, re.S)]
            if marks:
                found[provider] = marks
        return found

    def note(self, label: str) -> str:
        return text(self.rows[label][-1])

    def not_held(self, label: str, provider: str) -> bool:
        return text(self.rows[label][self.providers.index(provider)]) == "not held"


def parties(store: Store) -> dict[str, Party]:
    found = {}
    for row in store.rows(Party):
        party = Party.model_validate(row)
        found[party.provider] = party
    return found


def address_texts(party: Party) -> list[str]:
    return [
        f"{a.kind}: " * bool(a.kind)
        + ", ".join(p for p in (*a.lines, a.town, a.postcode, a.country) if p)
        for a in party.addresses
    ]


def test_each_provider_is_a_column_showing_every_detail_it_holds(
    demo: tuple[Store, ViewServer],
) -> None:
    store, server = demo
    page = about_page(server)
    table = Table(page)
    held = parties(store)
    assert sorted(held) == ["bank", "retailer", "telco", "utility"]
    assert table.providers == sorted(held)
    for provider, party in held.items():
        for label, name in FIELDS.items():
            value = getattr(party, name)
            if value in (None, ""):
                assert table.not_held(label, provider), (label, provider)
            else:
                assert table.values(label, provider) == [str(value)], (label, provider)
        assert table.values("Addresses", provider) == address_texts(party)
        assert f'href="/record/party/{party.id}"' in page


def test_the_demo_providers_differ_only_in_the_retailers_delivery_address(
    demo: tuple[Store, ViewServer],
) -> None:
    store, server = demo
    table = Table(about_page(server))
    [delivery] = [a for a in parties(store)["retailer"].addresses if a.kind == "Delivery address"]
    where = ", ".join(p for p in (*delivery.lines, delivery.town, delivery.postcode) if p)
    # The phones are written three ways ("+44-7700900123", "+44 7700 900123"); the addresses
    # have four kinds (Residential, billing, ...): neither is a difference.
    assert [label for label, differs in table.differs.items() if differs] == ["Addresses"]
    assert table.marked("Addresses") == {"retailer": [f"Delivery address: {where}, GB"]}
    assert table.note("Addresses") == f"Only retailer holds {where}, GB."
    for label in FIELDS:
        assert table.marked(label) == {}
        own = label == "Customer number"  # each provider numbers its customers its own way
        assert table.note(label) == ("Not compared: each provider has its own." if own else "")


def test_exactly_the_details_two_providers_disagree_on_are_marked_and_said_in_words(
    shady: tuple[Store, ViewServer],
) -> None:
    store, server = shady
    table = Table(about_page(server))
    held = parties(store)
    assert table.providers == ["bank", "shady"]
    assert [label for label, differs in table.differs.items() if differs] == [
        "Full name",
        "Addresses",
    ]
    # Siobhán and SIOBHAN: the case does not count, the accent does; neither has the majority.
    assert table.marked("Full name") == {
        "bank": ["Siobhán Ashworth"],
        "shady": ["SIOBHAN ashworth"],
    }
    assert table.note("Full name").startswith("Spelt differently at bank and shady")
    # Email in other case, the mobile written with (0), the home address in other case and
    # punctuation: the same details, shown as each provider holds them, unmarked.
    assert table.values("Email", "shady") == [held["shady"].email.strip()]
    assert table.values("Mobile", "shady") == ["+44 (0)7700 900 123"]
    for label in ("Email", "Mobile", "Birth date", "Phone", "Legal name"):
        assert table.marked(label) == {}, label
    # The old address only shady holds is the one marked, and named (its bidi override
    # made visible, as everywhere provider text is shown).
    old = shown(OLD_ADDRESS)
    assert table.marked("Addresses") == {"shady": [f"Delivery address: {old}, London, SE1 4NJ, GB"]}
    assert table.note("Addresses") == f"Only shady holds {old}, London, SE1 4NJ, GB."
    # What one of them does not hold is "not held", never a difference.
    assert table.not_held("Birth date", "bank") and table.not_held("Phone", "shady")
    assert table.not_held("Legal name", "shady")


def test_hostile_provider_text_is_shown_as_text_never_as_markup(
    shady: tuple[Store, ViewServer],
) -> None:
    page = about_page(shady[1])
    assert "&lt;script&gt;alert(" in page  # shady's old address, as the provider wrote it
    assert "<script" not in page and "<b>bold" not in page
    assert "\u202e" not in page and "\\u202e" in page  # the bidi override shown, not obeyed


def test_an_empty_store_says_what_would_fill_the_page(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path / "portal.db"))
    try:
        with ViewServer(store) as server:
            page = about_page(server)
            refused = httpx.get(server.url + "about", timeout=10)
    finally:
        store.close()
    assert "No personal details yet" in page and "portal connect" in page
    assert refused.status_code == 403 and "About me" not in refused.text
