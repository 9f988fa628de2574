"""Secrets taken out of log lines, whoever wrote them.

portal's own code never logs a secret, but the libraries under it do at DEBUG: httpx logs
every request URL (the loopback redirect carries ``code`` and ``state``, an authorization
URL ``state`` and ``nonce``, and an API may take a token in its query string), and
authlib's server side, which runs in-process for ``sync --demo``, logs every token it
issues. ``Redact`` is a logging filter for the handlers that print: it rewrites each
record's message (and traceback) with the value of every secret-named parameter, JSON or
dict entry, every ``Bearer``/``Basic`` credential, the password in a URL's userinfo
(``https://user:password@host``: SimpleFIN's access URL) and the one-time code of a claim
URL (``.../claim/<code>``: what a SimpleFIN setup token decodes to, which httpx logs when
it is claimed), replaced by ``[redacted]``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

SECRET_NAMES = (
    "access_token",
    "refresh_token",
    "id_token",
    "device_code",
    "code_verifier",
    "client_secret",
    "client_assertion",
    "assertion",
    "password",
    "token",
    "code",
    "state",
    "nonce",
)
"""Parameter and field names whose values are secrets (RFC 6749, 7009, 7636, 8628, OIDC)."""

_NAMES = "|".join(SECRET_NAMES)
# name=value (query strings, form bodies) and "name": "value" / 'name': 'value' (JSON, reprs).
_PAIR = re.compile(
    rf"""(?P<key>(?<![\w-])(?:{_NAMES})(?![\w-]))(?P<sep>=|["']?\s*:\s*["']?)(?P<value>[^&\s"',;}}\]]+)""",
    re.IGNORECASE,
)
_CREDENTIAL = re.compile(r"\b(?P<scheme>Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_USERINFO = re.compile(r"(?P<user>://[^/:@\s]+:)[^@/\s]+@")
_CLAIM = re.compile(r"(?P<path>/claim/)[^/?#\s\"']+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with every secret value in it replaced by ``[redacted]``."""
    text = _PAIR.sub(lambda m: f"{m['key']}{m['sep']}{REDACTED}", text)
    text = _USERINFO.sub(lambda m: f"{m['user']}{REDACTED}@", text)
    text = _CLAIM.sub(lambda m: f"{m['path']}{REDACTED}", text)
    return _CREDENTIAL.sub(lambda m: f"{m['scheme']} {REDACTED}", text)


class Redact(logging.Filter):
    """A handler filter that redacts each record's message and traceback before it prints."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drop it."""
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install(handlers: Iterable[logging.Handler]) -> None:
    """Put one ``Redact`` filter on each handler (once, however often this is called)."""
    for handler in handlers:
        if not any(isinstance(f, Redact) for f in handler.filters):
            handler.addFilter(Redact())
