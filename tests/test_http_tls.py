"""TLS through portal's transport: verified on first HTTPS use, never set up for loopback HTTP.

A real HTTPS server on 127.0.0.1 with a certificate made for the test: refused while nothing
trusts it, served once ``SSL_CERT_FILE`` names it. A real sync against the sandbox (plain
HTTP on loopback) loads no CA bundle at all.
"""

import datetime
import http.server
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import connect
from portal.app import Portal
from portal.errors import ProviderError
from portal.http import RetryPolicy, RetryTransport, Transport, verifying_context
from portal_bank.sandbox import BankSandbox


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portal test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"hello": "tls"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on 127.0.0.1 and the certificate it presents."""
    cert_file, key_file = _certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/", cert_file
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fresh_trust() -> Iterator[None]:
    """verifying_context made anew for the test, and again after it (it reads the env)."""
    verifying_context.cache_clear()
    yield
    verifying_context.cache_clear()


def _transport() -> RetryTransport:
    return RetryTransport(policy=RetryPolicy(attempts=1), allowed_hosts=None)


@pytest.mark.usefixtures("fresh_trust")
def test_https_to_an_untrusted_certificate_is_refused(https_server: tuple[str, Path]) -> None:
    url, _ = https_server
    with httpx.Client(transport=_transport()) as client, pytest.raises(ProviderError) as error:
        client.get(url)
    assert "CERTIFICATE_VERIFY_FAILED" in error.value.message
    assert error.value.hint is not None and "certificate" in error.value.hint


@pytest.mark.usefixtures("fresh_trust")
def test_https_is_served_once_the_certificate_is_trusted(
    https_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert_file = https_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    with httpx.Client(transport=_transport()) as client:
        assert client.get(url).json() == {"hello": "tls"}
        assert client.get(url).json() == {"hello": "tls"}
    assert verifying_context.cache_info().misses == 1  # one context for every request


@pytest.mark.usefixtures("fresh_trust")
def test_a_sync_over_loopback_http_loads_no_ca_bundle(
    tmp_path: Path, bank: BankSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: list[object] = []
    load = ssl.SSLContext.load_verify_locations

    def counted(context: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        loaded.append(args or kwargs)
        load(context, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    with Portal.open(home=tmp_path / "home") as portal:
        connect(portal, bank)
        [result] = portal.sync(["bank"])
    assert result.ok and result.records["transactions"] > 0
    assert loaded == []
    assert verifying_context.cache_info().misses == 0


@pytest.mark.usefixtures("fresh_trust")
def test_the_plain_http_transport_would_fail_closed_on_https(
    https_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only plain HTTP is routed through it; were HTTPS ever sent there, it would verify
    # against no CA at all and fail, never skip verification (here even a trusted server).
    url, cert_file = https_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    plain = Transport()._plain
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        plain.handle_request(httpx.Request("GET", url))
