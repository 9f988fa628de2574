"""What a plugin's mapping did not use: the part of a raw item that goes to ``extra``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def rest(item: dict[str, Any], used: Iterable[str]) -> dict[str, Any]:
    """The fields of ``item`` not in ``used``, for ``extra``: nothing released is dropped.

    ``used`` names fields, or parts of them by path (``price.taxIncludedAmount`` in an
    object, ``lines[].amount`` in each object of an array): what is left of such a field is
    kept under the same path, and a field left with nothing is left out.
    """
    whole: set[str] = set()
    parts: dict[str, list[str]] = {}
    for path in used:
        head, dot, tail = path.partition(".")
        if dot:
            parts.setdefault(head, []).append(tail)
        else:
            whole.add(head)
    left: dict[str, Any] = {}
    for key, value in item.items():
        if key in whole:
            continue
        if key in parts and isinstance(value, dict):
            value = rest(value, parts[key])
        elif f"{key}[]" in parts and isinstance(value, list):
            each = parts[f"{key}[]"]
            value = [rest(v, each) if isinstance(v, dict) else v for v in value]
            value = value if any(value) else {}
        if value != {} or item[key] == {}:
            left[key] = value
    return left
