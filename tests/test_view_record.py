"""``portal view``'s record page: every field with its title and description, values as a
person reads them, where the record came from, and the raw payload it was made from.

The demo store (synced the real way) and stores written through ``Store.commit`` for what
the demo does not hold (hostile text, a huge payload), served on a real socket.
"""

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from portal.batch import Batch, RawPayload, RejectedItem
from portal.record import STATE_LABELS, Bill, Consent, Transaction, nested_titles, titles
from portal.record.ids import canonical_json, portal_id, raw_digest
from portal.record.tables import RawItem
from portal.store import Store, sqlite_url
from portal.view import ViewServer
from portal.view.formats import money
from portal.view.overview import local_time
from portal.view.pages import record_url
from portal.view.record import ORIGINS, RAW_LIMIT
from view_homes import assert_guarded, browser


@pytest.fixture(scope="module")
def store(demo_home: Path) -> Iterator[Store]:
    store = Store(sqlite_url(demo_home / "portal.db"), read_only=True)
    yield store
    store.close()


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[httpx.Client]:
    with ViewServer(store) as server, browser(server) as client:
        client.base_url = httpx.URL(server.url)
        yield client


def text_of(page: str) -> str:
    """The page as a person reads it: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def raw_shown(page: str) -> str:
    [pre] = re.findall(r'<pre class="raw"[^>]*>(.*?)</pre>', page, flags=re.DOTALL)
    return html.unescape(pre)


def test_a_transaction_shows_every_field_its_values_its_provenance_and_its_payload(
    client: httpx.Client, store: Store
) -> None:
    row = next(r for r in store.rows(Transaction) if r["merchant_category_code"] and r["extra"])
    answer = client.get(record_url("transactions", row["id"]))
    assert answer.status_code == 200
    assert_guarded(answer)
    page = text_of(answer.text)
    for name, (title, description) in titles(Transaction).items():
        assert title in page, name
        assert description in page, name
    record = Transaction.model_validate(row)
    # Values as a person reads them: money with its currency, moments in local time,
    # the provider's words with its code beside them.
    assert money(record.amount, record.currency) in page
    assert local_time(record.booked_at) in page
    assert local_time(record.fetched_at) in page
    for name in ("description", "merchant_name", "provider_id", "raw_id", "connection_id", "id"):
        assert str(row[name]) in page, name
    assert f"{record.merchant_category_label} {record.merchant_category_code}" in page
    assert record.state is not None
    assert f"{STATE_LABELS[record.state]} {record.state.value}" in page
    assert ORIGINS[record.origin] in page
    for key, value in record.extra.items():
        assert re.search(rf"<code>{re.escape(key)}</code></th><td>", answer.text)
        leaves = value.values() if isinstance(value, dict) else [value]
        assert all(str(leaf) in page for leaf in leaves), key
    # The consent it came under, linked to its own page.
    consent = next(
        c["id"]
        for c in store.rows(Consent, row["provider"])
        if c["provider_id"] == row["consent_id"]
    )
    assert (
        f'href="{record_url("consents", consent)}">The consent it was fetched under' in answer.text
    )
    # The payload shown is the one the record was made from: its digest is the raw id.
    payload = json.loads(raw_shown(answer.text))
    [stream] = {r.stream for r in [_raw(store, row["raw_id"])]}
    assert raw_digest(row["provider"], stream, canonical_json(payload)) == row["raw_id"]


def _raw(store: Store, raw_id: str) -> RawItem:
    from sqlalchemy import select

    table = RawItem.__table__  # type: ignore[attr-defined]
    with store.engine.connect() as db:
        row = db.execute(select(table).where(table.c.id == raw_id)).one()
    return RawItem.model_validate(row._asdict())


@pytest.mark.parametrize(
    "address", ["/record/transactions/no-such-id", "/record/nothing/abc", "/record/transactions/"]
)
def test_an_unknown_record_is_a_404_in_plain_words(client: httpx.Client, address: str) -> None:
    answer = client.get(address)
    assert answer.status_code == 404
    assert_guarded(answer)
    if "no-such-id" in address:
        assert "Your store holds no record of transactions with that id." in answer.text
    if "nothing" in address:
        assert "has no category with that name" in answer.text


HOSTILE = "<script>alert('owned')</script><b>bold</b> \u202ekcatta"


def _store_with(tmp_path: Path, payload: str, extra: dict[str, object]) -> tuple[Store, str]:
    store = Store(sqlite_url(tmp_path / "portal.db"))
    raw_id = raw_digest("bank", "transactions", payload)
    t = Transaction(
        provider_id="t1",
        account_id="a",
        booked_at=datetime(2026, 1, 1, tzinfo=UTC),
        amount=Decimal("-3.20"),
        currency="GBP",
        status="Booked",
        status_label="Booked",
        description=HOSTILE,
        extra=extra,
    )
    t.id, t.provider, t.raw_id = portal_id("bank", "transactions", "t1"), "bank", raw_id
    raws = [RawPayload(raw_id, "transactions", payload)]
    rejected = [RejectedItem(raw_id, "transactions", f"its {HOSTILE} could not be read")]
    store.commit(Batch("bank", "c1", "transactions", datetime.now(UTC), [t], raws, rejected))
    return store, t.id


def test_hostile_text_in_a_record_its_payload_and_its_extra_is_shown_as_text(
    tmp_path: Path,
) -> None:
    payload = canonical_json({"Description": HOSTILE, "Note": "</pre><img src=x>"})
    store, key = _store_with(tmp_path, payload, {"<i>field</i>": HOSTILE})
    with ViewServer(store) as server, browser(server) as client:
        answer = client.get(server.url.rstrip("/") + record_url("transactions", key))
    store.close()
    assert answer.status_code == 200
    for markup in ("<script>", "<b>bold", "<img", "<i>field", "\u202e"):
        assert markup not in answer.text, markup
    assert "&lt;script&gt;" in answer.text and "&lt;/pre&gt;&lt;img" in answer.text
    shown = json.loads(raw_shown(answer.text).replace("\\u202e", "\u202e"))
    assert shown == json.loads(payload)
    page = text_of(answer.text)
    assert "Rejected from the same payload" in page and "could not be read" in page


def test_a_very_large_payload_is_cut_with_a_note_and_its_size(tmp_path: Path) -> None:
    payload = canonical_json({"Lines": ["x" * 100] * 5_000})
    store, key = _store_with(tmp_path, payload, {})
    with ViewServer(store) as server, browser(server) as client:
        answer = client.get(server.url.rstrip("/") + record_url("transactions", key))
    store.close()
    assert answer.status_code == 200
    assert len(raw_shown(answer.text)) < RAW_LIMIT + 200
    page = text_of(answer.text)
    assert f"{len(payload.encode()):,} bytes" in page
    assert f"only its first {RAW_LIMIT:,} characters are shown" in page


def test_a_bill_shows_its_lines_as_a_table_with_amounts_in_the_bills_currency(
    client: httpx.Client, store: Store
) -> None:
    bill = Bill.model_validate(next(r for r in store.rows(Bill) if r["lines"]))
    answer = client.get(record_url("bills", bill.id))
    assert answer.status_code == 200
    [lines] = re.findall(r'<table class="nested">(.*?)</table>', answer.text, flags=re.DOTALL)
    cells = text_of(lines)
    for title, _ in nested_titles(Bill)["lines"].values():
        assert title in cells
    for line in bill.lines:
        assert line.description in cells
        assert money(line.amount, bill.currency) in cells
