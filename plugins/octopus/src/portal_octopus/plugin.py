"""The Octopus Energy plugin's hooks: its declaration, and how it fetches and normalises.

Octopus Energy (a UK energy supplier) gives each customer a personal API key in their
online dashboard; its REST API (https://api.octopus.energy/v1/) takes it as the HTTP Basic
user name with an empty password. portal asks for the key and the account number once
(``portal connect octopus``), keeps them in the vault, and checks them against the account
endpoint. Everything else (retries, request limits, cursors, storage) is the engine's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from portal import Cursor, Cursors, InventoryItem, Page, Provider, hookimpl
from portal.auth.credentials import Ask, CredentialHelpers, KeyCredential, basic
from portal.auth.tokens import TokenSet
from portal.errors import AuthError, ProviderError
from portal.http import ProviderClient, follow_links
from portal.provider import RequestLimits
from portal.record import Category, Sector
from portal.variants import FAULTY, VALID, SandboxVariants, Variant
from portal_octopus import rules
from portal_octopus.dataset import VARIANTS

if TYPE_CHECKING:
    from portal.record import Entity
    from portal.sandbox import Sandbox

API = "https://api.octopus.energy/v1"
DASHBOARD = "https://octopus.energy/dashboard/new/accounts/personal-details/api-access"


def _sandbox(variant: str = "standard") -> Sandbox:
    # Imported here so that loading the plugin never imports Flask.
    from portal_octopus.sandbox import OctopusSandbox

    return OctopusSandbox(variant=variant)


SANDBOX = SandboxVariants(
    _sandbox,
    Variant("sparse", VALID, VARIANTS["sparse"]),
    Variant("faulty", FAULTY, VARIANTS["faulty"]),
)
"""Octopus's sandbox, and the other shapes the reference allows it to serve in."""


PROVIDER = Provider(
    name="octopus",
    display_name="Octopus Energy",
    sector=Sector.utility,
    description="Octopus Energy (UK): your account, electricity and gas meter points,"
    " half-hourly smart-meter consumption (import and export), and your tariffs with"
    " their unit rates and standing charges.",
    timezone="Europe/London",
    api_base=API,
    asks=(
        Ask(
            "api_key",
            "API key",
            secret=True,
            pattern=rules.API_KEY.pattern,
            help=f"Your personal API key (sk_live_...), generated at {DASHBOARD}",
        ),
        Ask(
            "account_number",
            "Account number",
            secret=False,
            pattern=rules.ACCOUNT_NUMBER.pattern,
            help="Your account number (A-XXXXXXXX), on your bills and at the top of your"
            " dashboard.",
        ),
    ),
    credential=KeyCredential(
        kind="api_key",
        auth=basic("api_key"),
        check="/accounts/{account_number}/",
        revoke_hint=f"Regenerate your API key at {DASHBOARD} to revoke it: the old key"
        " stops working at once.",
    ),
    # Octopus publishes no request rate for its REST API; two at a time, a few a second, is
    # polite for a personal key and still fetches a year of half-hours in minutes.
    limits=RequestLimits(concurrent=2, per_second=4),
    inventory=(
        InventoryItem(
            Category.accounts,
            "Your account, the home it supplies, and its electricity (import and export)"
            " and gas meter points with their meters.",
            ("number", "properties", "electricity_meter_points", "gas_meter_points"),
        ),
        InventoryItem(
            Category.products,
            "The tariffs each meter point was and is on (its agreements), with every unit"
            " rate and standing charge of those tariffs over those periods.",
            (
                "agreements",
                "standard-unit-rates",
                "day-unit-rates",
                "night-unit-rates",
                "standing-charges",
            ),
        ),
        InventoryItem(
            Category.usage,
            "Half-hourly consumption of each smart meter: electricity used and exported"
            " (kWh), gas used (m³ on SMETS2 meters).",
            ("consumption", "interval_start", "interval_end"),
        ),
    ),
    sandbox=SANDBOX,
)

_OWN_ITEMS = (
    "The account answer is taken apart: each property and each meter point is an item of"
    " its own (streams properties and meter_points) and becomes its own Account."
)
PORTAL_CONFORMANCE = {
    "octopus": {
        "ignored_fields": {
            "accounts": {
                "properties": _OWN_ITEMS,
                "electricity_meter_points": _OWN_ITEMS,
                "gas_meter_points": _OWN_ITEMS,
                "agreements": "Each agreement is an item of its own (stream agreements), the"
                " Product of the tariff the meter point was on.",
            },
        },
        "unsupported": {
            "permissions": "An Octopus API key reads everything on the account: there is no"
            " narrower grant to ask for.",
            "spec_variant": "No generated specification: the sandbox's sparse and faulty"
            " variants, and tests/test_octopus_rules.py (unknown codes, empty lists, negative"
            " prices), hold the plugin to the shapes the reference allows.",
            "changes.amend": "Octopus's reference never says a half-hour's consumption or a"
            " published charge changes once served; the sandbox plays none.",
            "changes.withdraw": "Octopus never stops serving a half-hour or a charge it served.",
            "changes.book": "Nothing Octopus serves is pending.",
            "changes.empty": "Consumption and charges are history: a list never empties.",
        },
        # A re-sync asks for the account, each meter's consumption since its last
        # half-hour (3), and each open agreement's charges since the newest one seen
        # (Agile import and Outgoing: 2 lists each; gas Flexible: 2); a closed agreement
        # fetched whole is not asked again. Then a page for each 100 new items.
        "resync_budget": {"per_sync": 10, "per_account": 0, "items_per_request": 100},
    }
}
"""What the conformance suite should know about Octopus (portal_conformance.declaration)."""


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    """Offer Octopus Energy."""
    register(PROVIDER)


class Since(Cursor):
    """Where a meter's consumption resumes: the end of the last interval stored."""

    period_from: str


class ChargesSeen(Cursor):
    """How far a tariff's charge list for one agreement has been read.

    ``newest`` is the latest ``valid_from`` stored (asked for again, inclusive, so a charge
    whose ``valid_to`` was set since is stored anew); ``complete`` once an agreement that
    has ended was read to its last page: its charges are not asked for again.
    """

    newest: str | None = None
    complete: bool = False


def _moment(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _next(body: Any) -> str | None:
    nxt = body.get("next") if isinstance(body, dict) else None
    return nxt if isinstance(nxt, str) and nxt else None


def _results(body: Any) -> list[dict[str, Any]]:
    found = body.get("results") if isinstance(body, dict) else None
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []


def account_number(client: Any) -> str:
    """The account number the person gave at ``portal connect`` (a non-secret answer)."""
    number = getattr(client, "answers", {}).get("account_number")
    if not isinstance(number, str) or not rules.ACCOUNT_NUMBER.fullmatch(number):
        raise AuthError(
            "The Octopus Energy connection holds no account number.",
            hint="Run portal connect octopus again.",
        )
    return number


@hookimpl
def authenticate(provider: Provider, credentials: CredentialHelpers) -> TokenSet:
    """The key and account number, checked against the account endpoint in Octopus's words.

    A 401 (or 403) is a key Octopus refuses; a 404 is a key it accepts with no such account
    behind it. Neither message quotes the key.
    """
    values = dict(credentials.answers)
    number = values.get("account_number", "")
    with credentials.client(values) as client:
        try:
            response = client.get(f"accounts/{number}/")
        except httpx.HTTPError as error:
            raise ProviderError(
                f"portal could not reach Octopus Energy to check the API key"
                f" ({type(error).__name__}).",
                hint="Check the network, then run portal connect octopus again.",
            ) from None
    if response.status_code in (401, 403):
        raise AuthError(
            f"Octopus Energy refused the API key (it answered {response.status_code}).",
            hint=f"Copy the key again from {DASHBOARD} (or generate a new one there), then"
            " run portal connect octopus again.",
        )
    if response.status_code == 404:
        raise AuthError(
            f"Octopus Energy accepted the API key but has no account {number} for this key (404).",
            hint="Check the account number on a bill or at the top of your dashboard, and"
            " that the key is the one of that account's login.",
        )
    if response.status_code != 200:
        raise ProviderError(
            f"Octopus Energy answered {response.status_code} when portal checked the key.",
            hint="Try again later.",
        )
    return TokenSet(values)


@hookimpl
def fetch(client: ProviderClient, cursors: Cursors) -> Iterator[Page]:
    """The account taken apart (its homes, meter points and agreements each an item of its
    own), then each meter's consumption and each agreement's charges, page by page."""
    from portal_octopus.mapping import meter_points, point_id, take_apart

    account = client.get_json(f"accounts/{account_number(client)}/")
    for stream, items in take_apart(account):
        yield Page(stream, items)
    points = list(meter_points(account))
    for _prop, fuel, point in points:
        export = bool(point.get("is_export"))
        code = point.get("mpan") if fuel == "electricity" else point.get("mprn")
        for meter in point.get("meters") or []:
            serial = meter.get("serial_number")
            if code and serial:
                yield from _consumption(client, cursors, fuel, str(code), str(serial), export)
        for agreement in point.get("agreements") or []:
            yield from _charges(client, cursors, fuel, point_id(fuel, point), agreement)


def _consumption(
    client: ProviderClient, cursors: Cursors, fuel: str, point: str, serial: str, export: bool
) -> Iterator[Page]:
    stream = f"consumption:{fuel}:{point}:{serial}"
    saved = cursors.get(stream, Since)
    params = {"order_by": "period"}  # oldest first, so each page's last half-hour is a cursor
    if saved is not None:
        params["period_from"] = saved.period_from
    context = {"fuel": fuel, "point": point, "serial_number": serial, "is_export": export}
    reached = [saved]

    def items(body: Any) -> list[dict[str, Any]]:
        return [{**r, "meter": context} for r in _results(body)]

    def cursor(body: Any, _next_url: str | None) -> Since | None:
        ends = [r["interval_end"] for r in _results(body) if isinstance(r.get("interval_end"), str)]
        if ends:
            reached[0] = Since(period_from=max(ends, key=_moment))
        return reached[0]

    kind = "electricity-meter-points" if fuel == "electricity" else "gas-meter-points"
    yield from follow_links(
        client,
        f"{kind}/{point}/meters/{serial}/consumption/",
        stream=stream,
        params=params,
        items=items,
        next_url=_next,
        cursor=cursor,
    )


def _charges(
    client: ProviderClient, cursors: Cursors, fuel: str, point: str, agreement: dict[str, Any]
) -> Iterator[Page]:
    code = agreement.get("tariff_code")
    parts = rules.tariff_parts(code) if isinstance(code, str) else None
    start = agreement.get("valid_from")
    if parts is None or not isinstance(start, str):
        return  # a tariff code portal cannot read names no charge list to ask for
    end = agreement.get("valid_to")
    lists = (
        ["standard-unit-rates"]
        if parts["registers"] == "1R"
        else ["day-unit-rates", "night-unit-rates"]
    )
    ended = isinstance(end, str) and _moment(end) <= datetime.now(UTC)
    for which in [*lists, "standing-charges"]:
        stream = f"charges:{point}:{code}:{start}:{which}"
        saved = cursors.get(stream, ChargesSeen) or ChargesSeen()
        if saved.complete:
            continue
        params = {"period_from": saved.newest or start}
        if isinstance(end, str):
            params["period_to"] = end
        context = {"code": code, "charge": which, "point": point}
        newest = [saved.newest]

        def items(body: Any, context: dict[str, Any] = context) -> list[dict[str, Any]]:
            return [{**r, "tariff": context} for r in _results(body)]

        def cursor(
            body: Any,
            next_url: str | None,
            newest: list[str | None] = newest,
            saved: ChargesSeen = saved,
        ) -> ChargesSeen:
            # Charges come newest first: the cursor moves on only once the last page is in.
            for r in _results(body):
                since = r.get("valid_from")
                if isinstance(since, str) and (
                    newest[0] is None or _moment(since) > _moment(newest[0])
                ):
                    newest[0] = since
            if next_url is not None:
                return saved
            return ChargesSeen(newest=newest[0], complete=ended)

        yield from follow_links(
            client,
            f"products/{parts['product']}/{fuel}-tariffs/{code}/{which}/",
            stream=stream,
            params=params,
            items=items,
            next_url=_next,
            cursor=cursor,
        )


@hookimpl
def normalise(
    stream: str, item: dict[str, Any], ref: Callable[[type[Entity], str], str]
) -> list[Entity]:
    """Map one Octopus item to the customer record."""
    from portal_octopus import mapping

    return mapping.NORMALISERS[stream.split(":", 1)[0]](item, ref)
