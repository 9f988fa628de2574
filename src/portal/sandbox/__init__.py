"""The machinery every first-party sandbox shares.

A sandbox is a real HTTP server on 127.0.0.1 with a real OAuth 2.0 authorization server
(authlib's server side) in front of a provider's API and a deterministic demo customer.
It records every request, can be told to misbehave (``Fault`` for one planned fault,
``Chaos`` for a share of requests going wrong at random, and switches on the
authorization server such as ``tamper_id_token`` or ``slow_down_next``), and states the
ground truth it served, so tests and the conformance suite can check delivered against
served::

    with BankSandbox() as bank:
        bank.add_fault(Fault(path="/transactions", status=429, headers={"Retry-After": "1"}))
        ...  # connect and sync against bank.authorize_url, bank.token_url, bank.api_base
        truth = bank.ground_truth()

A sandbox can also play the steps of its customer's life (``Sandbox.moves`` and
``move_on``, named in ``portal.sandbox.moves``): pending items book, new ones arrive,
others are amended or withdrawn, so a suite can follow one customer over several syncs.

Flask is imported here, so import this package only where a sandbox is wanted.
"""

from portal.sandbox.chaos import Chaos
from portal.sandbox.faults import Fault, RequestRecord
from portal.sandbox.moves import MOVES
from portal.sandbox.oauth import OAuthSettings
from portal.sandbox.server import Require, Sandbox

__all__ = ["MOVES", "Chaos", "Fault", "OAuthSettings", "RequestRecord", "Require", "Sandbox"]
