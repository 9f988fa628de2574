"""One vocabulary of states: every status code a first-party plugin can be sent means one of
portal's own states (``portal.record.vocab.State``), with the provider's code kept.

Three sides of it. The specifications' own code lists (Open Banking's enumerations, TM
Forum's, schema.org's order statuses as Demo Mart words them) and the sandboxes' readings
of the codes they serve: each code has words and a state other than ``unknown`` in the
plugin's tables, the state the sandbox says it means. A real sync of the four sandboxes,
and real imports of the file formats: no consent, transaction, bill, recurring payment or
purchase is stored without a state, and none with a status and no state.
"""

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from sqlalchemy import text

from conftest import synced_once
from portal.app import Portal
from portal.importing import import_file
from portal.record.vocab import State
from portal.store import Store, sqlite_url
from portal_retailer.sandbox import RetailerSandbox

DATA = Path(__file__).parent / "data"

CodeList = tuple[str, frozenset[str], Mapping[str, str], Mapping[str, State]]


def _specified() -> list[CodeList]:
    """Each closed code list a specification gives a status, with the plugin's words and
    states for it: (what, the codes, labels, states)."""
    from portal_bank import labels as bank
    from portal_bank import spec as ob
    from portal_bank.spec_endpoints import PREFERENCE
    from portal_retailer import labels as retailer
    from portal_retailer import rules as schema_org
    from portal_telco import labels as telco
    from portal_telco import rules as tmf

    return [
        (
            "OB account Status",
            ob.ACCOUNT.fields["Status"].codes,
            bank.ACCOUNT_STATUSES,
            bank.ACCOUNT_STATES,
        ),
        (
            "OB transaction Status",
            ob.ENTRY_STATUSES,
            bank.TRANSACTION_STATUSES,
            bank.TRANSACTION_STATES,
        ),
        (
            "OB consent Status",
            ob.CONSENT.fields["Status"].codes,
            bank.CONSENT_STATUSES,
            bank.CONSENT_STATES,
        ),
        (
            "OB DirectDebitStatusCode",
            ob.DIRECT_DEBIT.fields["DirectDebitStatusCode"].codes,
            bank.DIRECT_DEBIT_STATUSES,
            bank.ARRANGEMENT_STATES,
        ),
        (
            "OB StandingOrderStatusCode",
            ob.STANDING_ORDER.fields["StandingOrderStatusCode"].codes,
            bank.STANDING_ORDER_STATUSES,
            bank.ARRANGEMENT_STATES,
        ),
        (
            "Demo Bank marketing preference Status",
            PREFERENCE.fields["Status"].codes,
            bank.PREFERENCE_STATUSES,
            bank.PREFERENCE_STATES,
        ),
        (
            "TMF637 ProductStatusType",
            tmf.ENUMS["ProductStatusType"],
            telco.PRODUCT_STATUSES,
            telco.PRODUCT_STATES,
        ),
        (
            "TMF678 CustomerBill stateValue",
            tmf.ENUMS["stateValue"],
            telco.BILL_STATES,
            telco.BILL_STATE_MEANINGS,
        ),
        (
            "Demo Mart order status (schema.org OrderStatus)",
            frozenset(schema_org.ORDER_STATUSES),
            retailer.STATUSES,
            retailer.STATES,
        ),
    ]


def _served() -> list[tuple[str, Mapping[str, State], Mapping[str, str], Mapping[str, State]]]:
    """Each code list a sandbox serves, read by the sandbox itself (the provider's double,
    never the plugin), with the plugin's words and states: (what, the double's reading,
    labels, states)."""
    from portal_bank import expected as bank_double
    from portal_bank import labels as bank
    from portal_retailer import expected as retailer_double
    from portal_retailer import labels as retailer
    from portal_telco import labels as telco
    from portal_telco import tmf_read as telco_double
    from portal_utility import labels as utility
    from portal_utility import served as utility_double

    b, r, t, u = (
        bank_double.STATES,
        retailer_double.STATES,
        telco_double.STATES,
        utility_double.STATES,
    )
    return [
        ("bank accounts", b["account"], bank.ACCOUNT_STATUSES, bank.ACCOUNT_STATES),
        (
            "bank transactions",
            b["transaction"],
            bank.TRANSACTION_STATUSES,
            bank.TRANSACTION_STATES,
        ),
        ("bank consents", b["consent"], bank.CONSENT_STATUSES, bank.CONSENT_STATES),
        ("bank marketing", b["preference"], bank.PREFERENCE_STATUSES, bank.PREFERENCE_STATES),
        (
            "bank direct debits",
            b["arrangement"],
            bank.DIRECT_DEBIT_STATUSES,
            bank.ARRANGEMENT_STATES,
        ),
        (
            "bank standing orders",
            b["arrangement"],
            bank.STANDING_ORDER_STATUSES,
            bank.ARRANGEMENT_STATES,
        ),
        ("retailer purchases", r["purchase"], retailer.STATUSES, retailer.STATES),
        (
            "retailer memberships",
            r["membership"],
            retailer.MEMBERSHIP_STATUSES,
            retailer.MEMBERSHIP_STATES,
        ),
        ("retailer marketing", r["consent"], retailer.CONSENT_STATUSES, retailer.CONSENT_STATES),
        ("telco products", t["product"], telco.PRODUCT_STATUSES, telco.PRODUCT_STATES),
        ("telco bills", t["bill"], telco.BILL_STATES, telco.BILL_STATE_MEANINGS),
        ("telco permissions", t["permission"], telco.PERMISSION_STATUSES, telco.PERMISSION_STATES),
        (
            "utility authorizations",
            u["authorization"],
            utility.AUTHORIZATION_STATUSES,
            utility.AUTHORIZATION_STATES,
        ),
        (
            "utility supply points",
            u["usage_point"],
            utility.USAGE_POINT_STATUSES,
            utility.USAGE_POINT_STATES,
        ),
        (
            "utility agreements",
            u["agreement"],
            utility.AGREEMENT_STATUSES,
            utility.AGREEMENT_STATES,
        ),
    ]


@pytest.mark.parametrize(
    ("what", "codes", "labels", "states"), _specified(), ids=[c[0] for c in _specified()]
)
def test_every_code_a_specification_lists_has_words_and_a_state(
    what: str, codes: frozenset[str], labels: Mapping[str, str], states: Mapping[str, State]
) -> None:
    assert codes, f"{what}: no codes read from the specification"
    without_words = sorted(codes - set(labels))
    assert not without_words, f"{what}: no words for {without_words}"
    without_state = sorted(c for c in codes if states.get(c, State.unknown) is State.unknown)
    assert not without_state, f"{what}: no state for {without_state}"


@pytest.mark.parametrize(
    ("what", "double", "labels", "states"), _served(), ids=[c[0] for c in _served()]
)
def test_every_code_a_sandbox_serves_means_to_the_plugin_what_it_means_to_the_sandbox(
    what: str, double: Mapping[str, State], labels: Mapping[str, str], states: Mapping[str, State]
) -> None:
    assert double, f"{what}: the sandbox states no codes"
    without_words = sorted(set(double) - set(labels))
    assert not without_words, f"{what}: no words for {without_words}"
    read = {code: states.get(code, State.unknown) for code in double}
    assert read == dict(double), what
    assert State.unknown not in read.values(), what


def test_a_plugin_has_words_for_every_code_it_gives_a_state_and_the_reverse() -> None:
    for what, _, labels, states in _served():
        assert set(labels) == set(states), f"{what}: {set(labels) ^ set(states)}"


# Every record of these kinds has a status (the model requires it), so it must have a state.
WITH_STATUS = ("consents", "transactions", "bills", "recurring_payments", "purchases")


def _unstated(store: Store) -> dict[str, list[tuple[str, str, str | None]]]:
    """Per table, the rows with a status and no state, or a state outside the vocabulary."""
    vocabulary = ", ".join(f"'{s.value}'" for s in State)
    found: dict[str, list[tuple[str, str, str | None]]] = {}
    with store.engine.connect() as db:
        for table in (*WITH_STATUS, "accounts"):
            rows = db.execute(
                text(
                    f"SELECT provider, provider_id, status FROM {table}"  # noqa: S608
                    " WHERE (status IS NOT NULL AND state IS NULL)"
                    f" OR (state IS NOT NULL AND state NOT IN ({vocabulary}))"
                    + (" OR state IS NULL" if table in WITH_STATUS else "")
                )
            ).all()
            if rows:
                found[table] = [tuple(r) for r in rows]
    return found


def _states(store: Store) -> dict[str, set[str]]:
    with store.engine.connect() as db:
        return {
            table: set(db.execute(text(f"SELECT DISTINCT state FROM {table}")).scalars())  # noqa: S608
            for table in (*WITH_STATUS, "accounts")
        }


def test_a_sync_of_every_sandbox_stores_a_state_for_every_status(demo_home: Path) -> None:
    store = Store(sqlite_url(demo_home / "portal.db"), read_only=True)
    assert _unstated(store) == {}
    states = _states(store)
    # Every kind of record is there, and the demo's customer has only codes the plugins know.
    assert all(states[table] for table in WITH_STATUS), states
    assert State.unknown.value not in set().union(*states.values())
    with store.engine.connect() as db:
        providers = set(db.execute(text("SELECT DISTINCT provider FROM consents")).scalars())
    assert providers == {"bank", "retailer", "telco", "utility"}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """A home holding one file of each format portal imports, through the real importers."""
    with Portal.open(home=tmp_path_factory.mktemp("imported") / "home") as portal:
        for name in (
            "barclays-current-2026-02.ofx",
            "chase-card-2026-02.qfx",
            "nationwide-2026-03.ofx",
            "greenbutton/test_usage_data-trimmed.xml",
        ):
            import_file(portal, DATA / name)
        import_file(portal, DATA / "midata-current-account.csv", account="Barclays current")
        yield portal


def test_every_imported_file_stores_a_state_for_every_status(imported: Portal) -> None:
    assert _unstated(imported.store) == {}
    states = _states(imported.store)
    assert states["transactions"] == {State.booked.value}  # statements hold posted entries
    assert states["bills"] == {State.issued.value}  # Green Button does not say it is paid
    with imported.store.engine.connect() as db:
        providers = set(db.execute(text("SELECT DISTINCT provider FROM transactions")).scalars())
    assert len(providers) >= 2, providers  # OFX and midata both imported


def test_a_status_the_provider_leaves_out_is_deliberately_unknown_in_words(
    tmp_path: Path,
) -> None:
    # schema.org leaves an order's status optional: Demo Mart's sparse variant sends none.
    with (
        RetailerSandbox(variant="sparse") as shop,
        synced_once(tmp_path / "home", shop, "retailer") as portal,
    ):
        unstated = _unstated(portal.store)
        with portal.store.engine.connect() as db:
            purchases = db.execute(text("SELECT status, status_label, state FROM purchases")).all()
    assert unstated == {}
    assert len(purchases) == len(shop.ground_truth()["purchases"])
    assert {(status, state) for status, _, state in purchases} == {
        ("not_stated", State.unknown.value)
    }
    assert {label for _, label, _ in purchases} == {
        "Not stated (schema.org leaves an order's status optional)"
    }
