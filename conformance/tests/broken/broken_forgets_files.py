"""Broken on purpose: it downloads each statement's PDF to digest it, and throws it away.

Its documents name digests under which no file is kept, so the person cannot open them.
The conformance suite must fail it with test_kept_files[documents].
"""

import dataclasses
import hashlib
from typing import Any

from portal import hookimpl
from portal.files import KeptFile
from portal_bank import plugin as bank

EXPECTED_FAILURE = ("kept_files", "documents")
EXPECTED_IN_MESSAGE = ("name a digest under which no file is kept", "statement:")
PROVIDER = dataclasses.replace(
    bank.PROVIDER, name="broken_forgets_files", display_name="Broken bank (broken_forgets_files)"
)


class _Forgetful:
    """The bank's client, except that a file it fetches is measured and not kept."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def keep_file(self, url: str, params: Any = None) -> KeptFile:
        content = self._client.get(url, params=params).content
        return KeptFile(hashlib.sha256(content).hexdigest(), len(content), "application/pdf")

    def keep_content(self, content: bytes, content_type: str) -> KeptFile:
        return KeptFile(hashlib.sha256(content).hexdigest(), len(content), content_type)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    return bank.fetch(client=_Forgetful(client), cursors=cursors)


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
