"""A home for the view's pages about shopping, personal details and data use: the Demo Bank,
and "shady", Demo Mart (the retailer plugin, on a Demo Mart sandbox of its own) whose
customer differs from the bank's in known ways and some of whose text is hostile.

How shady's customer differs from the bank's (the About me page must find exactly these):

- the name is spelt without its accent, in other case ("SIOBHAN ashworth"): a difference;
- the email address in other case and with spaces around it: not a difference;
- the mobile number written "+44 (0)7700 900 123": not a difference;
- the home address in other case and punctuation: not a difference;
- an old address, 14 Old Kent Road, with hostile text in it, that the bank does not hold:
  a difference;
- a date of birth the bank does not hold, and no landline or legal name: "not held".
"""

from pathlib import Path

from portal_retailer.sandbox import RetailerSandbox
from view_homes import synced_home

# Markup and a bidi override: a record's text refuses control characters, not these.
HOSTILE = "<script>alert('owned')</script><b>bold</b>\u202ekcatta"

OLD_ADDRESS = f"14 Old Kent Road {HOSTILE}"

PLUGIN = f'''
"""Demo Mart as "shady": its customer differs from the bank's in known ways, and an order's
line and store, a processing recipient and an inference are hostile text."""
import dataclasses
from portal import hookimpl
from portal_retailer import plugin as shop

HOSTILE = {HOSTILE!r}
OLD_ADDRESS = {OLD_ADDRESS!r}
SHADY = dataclasses.replace(shop.PROVIDER, name="shady", display_name="Shady Mart")

@hookimpl
def register_providers(register):
    register(SHADY)

@hookimpl
def fetch(provider, client, cursors):
    yield from shop.fetch(provider, client, cursors)

def _first(items, change):
    return [change(items[0]), *items[1:]]

@hookimpl
def normalise(stream, item, ref):
    if stream == "customer":
        home = {{"type": "billing", "line1": "FLAT 3,", "line2": "27 elmwood road.",
                 "city": "LONDON", "postcode": "se249nx", "country": "gb"}}
        old = {{"type": "delivery", "line1": OLD_ADDRESS, "city": "London",
                "postcode": "SE1 4NJ", "country": "GB"}}
        item = {{**item, "first_name": "SIOBHAN", "last_name": "ashworth",
                 "email": "  Siobhan.Ashworth@EXAMPLE.com ", "mobile": "+44 (0)7700 900 123",
                 "addresses": [home, old]}}
    if stream == "orders" and item["number"] == "R0107-20250104-0029":
        lines = _first(item["lines"], lambda line: {{**line, "description": HOSTILE}})
        item = {{**item, "lines": lines, "store": {{"id": "0107", "name": HOSTILE}}}}
    if stream == "processing" and item["recipients"]:
        item = {{**item, "recipients": _first(item["recipients"],
                                             lambda r: {{**r, "name": HOSTILE}})}}
    if stream == "insights" and item["id"] == "INS-SEG-LIFESTAGE":
        item = {{**item, "value": HOSTILE, "explanation": HOSTILE}}
    return shop.normalise(stream, item, ref)
'''


def shady_home(root: Path) -> Path:
    """``root/home`` with the Demo Bank and "shady" (above), both synced once."""
    home, results = synced_home(root, "shady", PLUGIN, RetailerSandbox)
    assert all(result.ok for result in results.values()), results
    return home
