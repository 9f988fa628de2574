"""Stable, deterministic identifiers: the same provider item gets the same id on every sync."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import orjson

_NAMESPACE = uuid.UUID("6f1d3c52-9a47-4c1e-8f0b-7f3f0c2b9e11")
_PREFIX = _NAMESPACE.bytes
# RFC 4122's variant bits (10xx) on the 17th hex digit of the SHA-1 digest, by that digit.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def portal_id(provider: str, category: str, provider_id: str) -> str:
    """The portal id of one provider item: a UUIDv5 of provider, category and provider id.

    Exactly ``str(uuid.uuid5(namespace, name))``, made from the SHA-1 digest's hex text (the
    13th digit is the version, 5; the 17th carries the variant bits) without building a
    ``UUID`` or an integer: it is computed for every record a sync writes (1.0 µs against
    1.6 to 2.1 by way of the integer).
    """
    name = f"{provider}\x1f{category}\x1f{provider_id}".encode()
    h = hashlib.sha1(_PREFIX + name, usedforsecurity=False).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def canonical_json(payload: Any) -> str:
    """JSON with sorted keys and no spaces, so equal payloads have equal text.

    The text is ``json.dumps(payload, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``: raw ids are digests of it, so it must never change. orjson
    writes the same text eight times faster for payloads of strings, integers, booleans,
    nulls, lists and string-keyed dicts; anything else (floats, whose text orjson writes
    differently, integers beyond 64 bits, other types) goes through ``json.dumps``.

    Raises ``NestedTooDeep`` for a payload nested more than ``MAX_DEPTH`` levels: orjson,
    which the store also writes JSON with, refuses it, and deeper still ``json.dumps`` and
    pydantic do too. orjson finds it at no cost for the payloads it writes; for the others
    a trial ``orjson.dumps`` (a microsecond, against ``json.dumps``'s ten) looks.
    """
    if _plain(payload):
        try:
            return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode()
        except orjson.JSONEncodeError as error:  # a lone surrogate, a too-large integer...
            _refuse_depth(error)  # ...or a payload too deep
    else:
        try:
            orjson.dumps(payload)
        except orjson.JSONEncodeError as error:
            _refuse_depth(error)
    try:
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except RecursionError:  # orjson stopped at an error before it went that deep
        raise NestedTooDeep(MAX_DEPTH) from None


MAX_DEPTH = 254
"""The deepest nesting of lists and dicts a payload may have: orjson's own bound."""


class NestedTooDeep(ValueError):
    """A payload nested more than ``MAX_DEPTH`` levels deep, which portal cannot store."""

    def __init__(self, depth: int) -> None:
        super().__init__(f"it is nested more than {depth} levels deep")


def _refuse_depth(error: orjson.JSONEncodeError) -> None:
    if str(error) == "Recursion limit reached":
        raise NestedTooDeep(MAX_DEPTH) from None


_SCALARS = frozenset({str, int, bool, type(None)})


def _plain(payload: Any) -> bool:
    """Whether ``payload`` holds only JSON values orjson writes exactly as ``json.dumps``.

    Keys are not looked at: orjson refuses a key that is not a string, and the caller then
    falls back to ``json.dumps``.
    """
    if type(payload) in _SCALARS:
        return True
    # Containers go on the stack, scalars are checked where they are found: most values of
    # a payload are scalars, and each one pushed and popped was a third of the walk.
    stack = [payload]
    while stack:
        value = stack.pop()
        if type(value) is dict:
            value = value.values()
        elif type(value) is not list:
            return False
        for inner in value:
            kind = type(inner)
            if kind is dict or kind is list:
                stack.append(inner)
            elif kind not in _SCALARS:
                return False
    return True


def raw_digest(provider: str, stream: str, payload_json: str) -> str:
    """The id of a raw payload: SHA-256 over provider, stream and its canonical JSON."""
    digest = hashlib.sha256()
    for part in (provider, stream, payload_json):
        digest.update(part.encode())
        digest.update(b"\x1f")
    return digest.hexdigest()
