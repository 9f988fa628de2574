"""The Demo Mart customer's shopping moves on (portal_retailer.moves), and portal follows it.

A home synced after each step holds exactly what is served: the receipts that filled the
last page of orders exactly, the receipt a return amended, and the new days of shopping.
"""

from pathlib import Path

import pytest

from portal.record import Purchase
from portal_retailer.sandbox import RetailerSandbox
from test_retailer import _assert_store_matches, _connect_and_sync, _open, _rows


def test_a_home_synced_after_each_step_holds_exactly_what_is_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_VAULT", "file")  # never the keyring of the machine running tests
    with RetailerSandbox() as shop, _open(tmp_path / "home") as portal:
        assert shop.moves == ("full_page", "amend", "arrive")
        shop.move_on("full_page")
        orders = [p for p in shop.ground_truth()["purchases"] if "order_number" not in p]
        assert len(orders) % shop.page_size == 0
        assert _connect_and_sync(portal, shop).ok
        _assert_store_matches(portal, shop)
        with pytest.raises(ValueError, match="before the first sync"):
            shop.move_on("full_page")

        shop.move_on("amend")  # one item of the latest receipt taken back to a store
        [second] = portal.sync(["retailer"])
        assert second.ok, second.error
        _assert_store_matches(portal, shop)
        statuses = {r["provider_id"]: r["status"] for r in _rows(portal, Purchase)}
        assert "partially_returned" in {
            statuses[p["id"]]
            for p in shop.ground_truth()["purchases"]
            if p["status"] != "completed"
        }

        shop.move_on("arrive")
        [third] = portal.sync(["retailer"])
        assert third.ok and third.records["purchases"] >= 3
        _assert_store_matches(portal, shop)
        with pytest.raises(ValueError, match="cannot play the step 'withdraw'"):
            shop.move_on("withdraw")
