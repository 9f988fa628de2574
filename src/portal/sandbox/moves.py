"""The steps of a customer's life a sandbox can play, so a suite can follow them over time.

A sandbox lists the steps it can play in ``Sandbox.moves``, in the order a suite plays
them, and plays one with ``Sandbox.move_on(step)``. After each, ``ground_truth()`` states
the new state, and the provider's API serves it. A step is named from ``MOVES``:

``full_page``
    Items are added so that the paginated streams new items join (transactions, orders),
    served whole, end exactly on a full page: the last page holds exactly a page size of
    items. A suite plays it before the first sync, which reads every stream whole.
``amend``
    Items the provider may still change (a pending payment, an estimated reading) change.
``withdraw``
    Items the provider may still drop (a pending payment whose authorisation lapsed) are
    no longer served at all.
``book``
    Pending items are booked; where the provider's specification lets an item change its
    id as it books, some do, so the pending one is withdrawn and a booked one arrives.
``arrive``
    New items arrive after the latest ones.
``empty``
    A stream that held items becomes empty (the offers lapse, the last standing order ends).

Every step also moves the provider's clock on, so what it states "as at now" (a balance)
is stated at a new moment. A sandbox plays only the steps its provider's data allows (its
plugin declares the others unsupported, saying why); the conformance suite
(``test_changes``) plays each one and syncs after it. What the sandbox serves must stay its
raw items as served: the suite looks for each item of the truth in the raw payloads the
store keeps.
"""

from __future__ import annotations

MOVES = ("full_page", "amend", "withdraw", "book", "arrive", "empty")
"""Every step a sandbox may list in ``Sandbox.moves``, in the order a suite plays them."""


def unknown_move(sandbox: object, step: str, moves: tuple[str, ...]) -> ValueError:
    """The error for a step ``sandbox`` cannot play, naming those it can."""
    return ValueError(
        f"{type(sandbox).__name__} cannot play the step {step!r}; it plays"
        f" {', '.join(moves) or 'none'} (portal.sandbox.moves.MOVES names every step)."
    )
