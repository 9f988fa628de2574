"""Stable, deterministic identifiers: the same provider item gets the same id on every sync."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import orjson

_NAMESPACE = uuid.UUID("6f1d3c52-9a47-4c1e-8f0b-7f3f0c2b9e11")
_PREFIX = _NAMESPACE.bytes
# RFC 4122 version 5 and variant bits, set on the first 16 bytes of the SHA-1 digest.
_KEEP = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_SET = (5 << 76) | (0x8000 << 48)


def portal_id(provider: str, category: str, provider_id: str) -> str:
    """The portal id of one provider item: a UUIDv5 of provider, category and provider id.

    Exactly ``str(uuid.uuid5(namespace, name))``, without building a ``UUID`` object: it is
    computed twice for every record a sync writes, and the object was most of its cost.
    """
    name = f"{provider}\x1f{category}\x1f{provider_id}".encode()
    digest = hashlib.sha1(_PREFIX + name, usedforsecurity=False).digest()
    h = f"{int.from_bytes(digest[:16]) & _KEEP | _SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def canonical_json(payload: Any) -> str:
    """JSON with sorted keys and no spaces, so equal payloads have equal text.

    The text is ``json.dumps(payload, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``: raw ids are digests of it, so it must never change. orjson
    writes the same text eight times faster for payloads of strings, integers, booleans,
    nulls, lists and string-keyed dicts; anything else (floats, whose text orjson writes
    differently, integers beyond 64 bits, other types) goes through ``json.dumps``.
    """
    if _plain(payload):
        try:
            return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode()
        except orjson.JSONEncodeError:  # a lone surrogate, a too-large integer
            pass
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_SCALARS = frozenset({str, int, bool, type(None)})


def _plain(payload: Any) -> bool:
    """Whether ``payload`` holds only JSON values orjson writes exactly as ``json.dumps``.

    Keys are not looked at: orjson refuses a key that is not a string, and the caller then
    falls back to ``json.dumps``.
    """
    stack = [payload]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is dict:
            stack.extend(value.values())
        elif kind is list:
            stack.extend(value)
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
