"""Canary: no secret ever shows up in a log line, an output, an error, a repr, the store or an export.

A whole life cycle runs through the real CLI at DEBUG: connect (authorization code, PKCE,
OpenID), sync, connect again with a device code (RFC 8628, replacing the first grant), a
forced refresh, export, status, a failing sync, disconnect. Every secret that crossed the
sandbox (access and refresh tokens, authorization and device codes, code verifiers, state,
nonces, ID tokens, the client secret) is then searched for, as is and URL-, JSON- and
base64-encoded, in everything portal wrote. ``sync --demo``, where portal's own user agent
follows the redirect (code and state in the URL httpx logs), is searched the same way.
"""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest

from portal.app import Portal
from portal_bank.sandbox import BankSandbox

CLIENT_ID = "portal-canary"
CLIENT_SECRET = "canary-client-secret-5b1f0c7e9d"

PLUGIN = '''
"""A confidential-client variant of the Demo Bank, for the canary test."""
import dataclasses, os
from portal import hookimpl
from portal_bank import plugin as bank

PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="canary",
    display_name="Canary Bank",
    oauth=dataclasses.replace(bank.PROVIDER.oauth, client_id="portal-canary",
                              client_secret=os.environ["CANARY_CLIENT_SECRET"]),
)

@hookimpl
def register_providers(register):
    register(PROVIDER)

@hookimpl
def fetch(client, cursors):
    return bank.fetch(client, cursors)

@hookimpl
def normalise(stream, item, ref):
    return bank.normalise(stream, item, ref)
'''


def encodings(secret: str) -> set[str]:
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        forms.add(encode(raw).decode())
        forms.add(encode(raw).decode().rstrip("="))
    return {f for f in forms if len(f) >= 8}


class Life:
    """Runs portal commands in a subprocess at DEBUG and keeps everything they printed."""

    def __init__(self, home: Path, plugins: Path) -> None:
        self.env = {**os.environ, "PORTAL_HOME": str(home), "CANARY_CLIENT_SECRET": CLIENT_SECRET}
        self.base = [
            str(Path(sys.executable).with_name("portal")),
            "-v",
            "--plugins-dir",
            str(plugins),
        ]
        self.outputs: list[str] = []

    def run(self, *args: str, expect: int = 0) -> None:
        done = subprocess.run(
            [*self.base, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.outputs += [done.stdout, done.stderr]
        assert done.returncode == expect, f"{args}: {done.stderr}"

    def connect(self, bank: BankSandbox, provider: str = "canary") -> None:
        process = subprocess.Popen(
            [
                *self.base,
                "connect",
                provider,
                "--no-browser",
                "--sandbox",
                bank.base_url,
                "--timeout",
                "30",
            ],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        seen = []
        for line in process.stderr:
            seen.append(line)
            if line.strip().startswith(bank.authorize_url):
                httpx.get(line.strip(), follow_redirects=True, timeout=10)
                break
        out, err = process.communicate(timeout=30)
        # The address the person must open carries state and nonce by design (RFC 6749
        # §4.1.1); it is the one line allowed to. Every other line is searched.
        seen = [line for line in seen if not line.strip().startswith(bank.authorize_url)]
        self.outputs += ["".join(seen), out, err]
        assert process.returncode == 0, err

    def connect_device(self, bank: BankSandbox) -> None:
        process = subprocess.Popen(
            [*self.base, "connect", "canary", "--device", "--sandbox", bank.base_url],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        seen = []
        for line in process.stderr:
            seen.append(line)
            if len(seen) >= 3 and "enter the code" in seen[-3] and line.strip():
                bank.approve_device(line.strip())
                break
        out, err = process.communicate(timeout=60)
        self.outputs += ["".join(seen), out, err]
        assert process.returncode == 0, err


@pytest.mark.slow
def test_no_secret_leaks_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANARY_CLIENT_SECRET", CLIENT_SECRET)  # for the in-process reprs
    home, plugins, exports = tmp_path / "home", tmp_path / "plugins", tmp_path / "exports"
    plugins.mkdir()
    (plugins / "canary.py").write_text(PLUGIN)
    life = Life(home, plugins)
    with BankSandbox(device_interval=0.5, id_token_on_refresh=True) as bank:
        bank.register_client(CLIENT_ID, client_secret=CLIENT_SECRET, scope="openid accounts")
        life.connect(bank)
        life.run("sync")
        life.connect_device(bank)
        assert ("refresh_token", "refresh_token") in bank.revocations  # the first grant
        life.run("sync")
        bank.expire_tokens()  # the next sync refreshes: rotated tokens are secrets too
        life.run("sync")
        for fmt in ("jsonl", "csv"):
            life.run("export", "--format", fmt, "--out", str(exports / fmt))
        life.run("status")
        bank.withdraw_consent()
        life.run("sync", expect=4)  # an AuthError, printed with its message and hint
        life.run("disconnect", "canary")
        secrets = bank.secrets_seen() | {CLIENT_SECRET, f"{CLIENT_ID}:{CLIENT_SECRET}"}
        assert len(secrets) >= 12, "the sandbox should have seen tokens, codes and verifiers"
        with Portal.open(home=home, plugins_dir=plugins) as portal:
            reprs = [
                repr(portal),
                repr(portal.store),
                repr(portal.vault),
                repr(portal.plugins.provider("canary")),
            ]

    places = {f"output {i}": text for i, text in enumerate(life.outputs)}
    places.update({f"repr {i}": text for i, text in enumerate(reprs)})
    for path in [*home.rglob("*"), *exports.rglob("*")]:
        if path.is_file():
            places[str(path)] = path.read_bytes().decode("latin-1")
    assert any("DEBUG" in text for text in life.outputs), "the run should have logged at DEBUG"
    leaks = [
        (where, form[:12] + "...")
        for secret in secrets
        for form in encodings(secret)
        for where, text in places.items()
        if form in text
    ]
    assert not leaks, f"secrets found: {leaks}"


OBSERVER = '''
"""Notes every secret the demo's sandboxes saw, for the canary: it observes, changes nothing."""
import atexit, json, os
from portal.sandbox.server import Sandbox

_seen = set()
_stop = Sandbox.stop

def _stop_noting(self):
    if self.running:
        _seen.update(self.secrets_seen())
    _stop(self)

Sandbox.stop = _stop_noting

@atexit.register
def _write():
    with open(os.environ["CANARY_SEEN"], "w") as out:
        json.dump(sorted(_seen), out)
'''


@pytest.mark.slow
def test_a_verbose_demo_sync_prints_no_secret(tmp_path: Path) -> None:
    # In --demo portal's own user agent follows the redirect, so httpx logs the URL with the
    # code and state, and the in-process authorization server logs the tokens it issues.
    plugins, seen_file = tmp_path / "plugins", tmp_path / "seen.json"
    plugins.mkdir()
    (plugins / "observer.py").write_text(OBSERVER)
    life = Life(tmp_path / "home", plugins)
    life.env["CANARY_SEEN"] = str(seen_file)
    life.run("sync", "--demo")
    secrets = set(json.loads(seen_file.read_text()))
    assert len(secrets) >= 16, "four sandboxes: codes, verifiers, state, tokens each"
    output = "".join(life.outputs)
    assert "HTTP Request: GET" in output and "/callback?" in output, "httpx logged the redirect"
    leaks = [form[:12] + "..." for s in secrets for form in encodings(s) if form in output]
    assert not leaks, f"secrets found: {leaks}"
