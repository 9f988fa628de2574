"""The device authorization grant (RFC 8628): interval, slow_down and expiry, by the clock.

A provider that declares ``OAuthClient(device_authorization_url=...)`` offers
``portal connect --device``. These checks connect that way against its sandbox, through
its ``authenticate`` hook, with the polling interval shortened to the harness's
``device_interval`` (the sandbox's ``set_device_timing``), and read the sandbox's log of
polls: when each came, and what it was answered.

- ``device_interval``: approved after a few intervals, the login completes, and no poll
  came sooner than the interval after the one before;
- ``device_slow_down``: the first poll is answered ``slow_down``; the next one must come
  at least the interval plus 5 seconds later (RFC 8628 §3.5), so this check takes the
  5 seconds a correct client waits;
- ``device_expiry``: the code ends early at the provider; at the first ``expired_token``
  the login stops with an error and polls no more.

A broken client is stopped as soon as the log shows it wrong (its sandbox is shut down),
so it fails in a second or two, not at a timeout.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from portal.auth.device import DeviceCode
from portal.record.tables import Connection
from portal.sandbox import Sandbox
from portal.sandbox.device import POLL_LEEWAY, SLOW_DOWN_STEP
from portal_conformance.failures import CheckFailed, NotApplicable, require
from portal_conformance.harness import Harness

CHECKS = ("device_interval", "device_slow_down", "device_expiry")
LIFETIME = 60
"""The ``expires_in`` the sandbox states: long enough that only ``expire_device_codes`` ends
a code within a check."""
PATIENCE = 8.0
"""Seconds a login may take beyond what a correct one needs, for a client polling slower
than it must (allowed: the interval is a minimum)."""

Polls = list[tuple[float, str]]


@dataclass
class DeviceLogin:
    """One ``portal connect --device`` against a fresh sandbox, and the polls it made."""

    polls: Polls = field(default_factory=list)
    """(``time.monotonic()``, the answer) for every poll of the login's device code."""
    codes: int = 0
    connection: Connection | None = None
    error: Exception | None = None
    stopped: bool = False
    """The login was still polling when the suite stopped it (wrong, or too slow)."""

    @property
    def answers(self) -> list[str]:
        """What each poll was answered, in order."""
        return [answer for _, answer in self.polls]

    @property
    def gaps(self) -> list[float]:
        """Seconds between consecutive polls."""
        return [b - a for (a, _), (b, _) in itertools.pairwise(self.polls)]


def device_flow(h: Harness, which: str) -> dict[str, float]:
    """One property of the plugin's device login (``which`` is one of ``CHECKS``)."""
    h.unsupported("oauth.device_flow")
    h.requires_oauth("device login")
    if not h.provider.oauth.device_authorization_url:
        raise NotApplicable(
            f"{h.name!r} declares no device_authorization_url, so it offers no sign-in from"
            " another device (portal connect --device)"
        )
    return {"device_interval": _interval, "device_slow_down": _slow_down, "device_expiry": _expiry}[
        which
    ](h)


def _where(h: Harness) -> str:
    return (
        f"portal connect {h.name} --device: the authenticate hook of {h.name!r} (portal's"
        " built-in device flow unless overridden)"
    )


def _login(
    h: Harness,
    label: str,
    *,
    wrong: Callable[[Polls], bool],
    wait: float,
    approve_after: float | None = None,
    expire_after: float | None = None,
    slow_downs: int = 0,
) -> DeviceLogin:
    """Connect with a device code against a fresh sandbox; stop early once ``wrong(polls)``."""
    sandbox: Any = h.sandbox()
    if not hasattr(sandbox, "set_device_timing"):
        raise CheckFailed(
            f"The sandbox of {h.name!r} cannot shorten its device-flow interval.",
            where=f"Provider(name={h.name!r}).sandbox",
            fix="Build the sandbox on portal.sandbox.Sandbox, whose authorization server"
            " offers the device flow.",
        )
    sandbox.set_device_timing(interval=h.device_interval, expires_in=LIFETIME)
    if slow_downs:
        sandbox.slow_down_next(slow_downs)
    portal = h.portal(label)
    login, timers = DeviceLogin(), []

    def show(code: DeviceCode) -> None:  # the person, on another device, a little later
        def approve() -> None:
            with contextlib.suppress(LookupError):  # already decided, or expired: no matter
                sandbox.approve_device(code.user_code)

        for delay, action in (
            (approve_after, approve),
            (expire_after, sandbox.expire_device_codes),
        ):
            if delay is not None:
                timers.append(threading.Timer(delay, action))
                timers[-1].start()

    def connect() -> None:
        try:
            login.connection = h.connect(portal, sandbox, device=True, show_code=show)
        except Exception as error:  # the checks judge it: a failed login is an outcome
            login.error = error

    thread = threading.Thread(target=connect, name=f"device-login-{label}", daemon=True)
    thread.start()
    give_up = time.monotonic() + wait
    while thread.is_alive() and time.monotonic() < give_up and not wrong(_polls(sandbox)):
        thread.join(0.05)
    thread.join(0.5)  # a login whose last poll was just answered is still finishing
    for timer in timers:
        timer.cancel()
    login.stopped = thread.is_alive()
    sandbox.stop()  # ends a client that would poll for ever: its next request fails
    thread.join(5)
    login.polls, login.codes = _polls(sandbox), len(sandbox.device_polls_by_code())
    return login


def _polls(sandbox: Sandbox) -> Polls:
    # The first device code's polls: the login's (a second code would be a second login).
    return next(iter(sandbox.device_polls_by_code().values()), [])


def _started(h: Harness, login: DeviceLogin) -> None:
    """Fail unless the login asked for a device code and polled with it."""
    if login.codes == 0:
        happened = (
            f"failed: {login.error}" if login.error else "completed some other way (a browser?)"
        )
        raise CheckFailed(
            f"{h.provider.display_name} declares a device authorization endpoint, but"
            f" portal connect {h.name} --device never got a device code; the login {happened}.",
            where=_where(h),
            fix="Return oauth.run() from authenticate (it runs the device flow when asked),"
            " and serve RFC 8628's /oauth/device in the sandbox (portal.sandbox.Sandbox"
            " does); or drop device_authorization_url if you do not offer it.",
        )
    require(
        bool(login.polls),
        f"The login got a device code but never polled the token endpoint with it"
        f" ({login.error or 'it was still waiting'}).",
        where=_where(h),
        fix="Poll the token endpoint every `interval` seconds until the person decides.",
    )


def _completed(h: Harness, login: DeviceLogin, waited: float) -> None:
    require(
        login.connection is not None,
        f"The device login was approved but did not complete: "
        f"{login.error or f'still polling after {waited:g} s'} (answers: {login.answers}).",
        where=_where(h),
        fix="Keep polling on authorization_pending and slow_down; exchange the approval for"
        " tokens as portal's oauth.device_code() does.",
    )


def _interval(h: Harness) -> dict[str, float]:
    interval = h.device_interval
    wait = 3 * interval + PATIENCE
    login = _login(
        h,
        "device-interval",
        approve_after=2.5 * interval,
        wait=wait,
        wrong=lambda polls: any(answer == "slow_down" for _, answer in polls),
    )
    _started(h, login)
    soonest = min(login.gaps, default=interval)
    require(
        "slow_down" not in login.answers and soonest >= interval - POLL_LEEWAY,
        f"The login polled {soonest:.3f} s after the poll before, sooner than the interval"
        f" of {interval:g} s the provider stated (answers: {login.answers[:8]}).",
        where=_where(h),
        fix="Wait the `interval` the device authorization answer states between polls"
        " (RFC 8628 §3.5), never a fixed period; portal's oauth.device_code() does.",
    )
    _completed(h, login, wait)
    return {"polls": len(login.polls), "soonest_poll_seconds": round(soonest, 3)}


def _slow_down(h: Harness) -> dict[str, float]:
    interval = h.device_interval
    needed = interval + SLOW_DOWN_STEP

    def wrong(polls: Polls) -> bool:  # the poll after the slow_down came too soon
        return len(polls) > 1 and polls[1][0] - polls[0][0] < needed - POLL_LEEWAY

    wait = interval + needed + PATIENCE
    login = _login(h, "device-slow-down", approve_after=0, slow_downs=1, wait=wait, wrong=wrong)
    _started(h, login)
    require(
        len(login.polls) > 1,
        f"After slow_down the login stopped polling: {login.error or 'it never polled again'}.",
        where=_where(h),
        fix="slow_down is not a refusal: add 5 seconds to the interval and keep polling.",
    )
    gap = login.gaps[0]
    require(
        gap >= needed - POLL_LEEWAY and login.answers.count("slow_down") == 1,
        f"After slow_down the next poll came {gap:.3f} s later; RFC 8628 §3.5 requires the"
        f" interval plus 5 s ({needed:g} s) for it and every later poll"
        f" (answers: {login.answers[:8]}).",
        where=_where(h),
        fix="On slow_down, add 5 seconds to the interval for this and every later poll, as"
        " portal's oauth.device_code() does.",
    )
    _completed(h, login, wait)
    return {"seconds_after_slow_down": round(gap, 3)}


def _expiry(h: Harness) -> dict[str, float]:
    interval = h.device_interval
    expire_after = 2.5 * interval

    def wrong(polls: Polls) -> bool:  # polled again after hearing the code is dead
        answers = [answer for _, answer in polls]
        return "expired_token" in answers[:-1]

    wait = expire_after + interval + PATIENCE
    login = _login(h, "device-expiry", expire_after=expire_after, wait=wait, wrong=wrong)
    _started(h, login)
    answers = login.answers
    require(
        "expired_token" in answers,
        f"The login ended before the code expired, or never polled to hear it had:"
        f" {login.error or 'no error'} (answers: {answers[:8]}).",
        where=_where(h),
        fix="Keep polling on authorization_pending until the code's expires_in, and stop at"
        " expired_token.",
    )
    after = len(answers) - 1 - answers.index("expired_token")
    require(
        after == 0 and not login.stopped and login.connection is None,
        f"The provider answered expired_token, and the login polled {after} more times"
        f"{' and was still polling when stopped' if login.stopped else ''}.",
        where=_where(h),
        fix="Stop at expired_token with an error telling the person to start again"
        " (RFC 8628 §3.5); the code can never be approved now.",
    )
    require(
        login.error is not None,
        "The code expired, yet the login reported no error.",
        where=_where(h),
        fix="Raise an AuthError saying the code expired and to run portal connect again.",
    )
    return {"polls": len(login.polls)}
