"""An https balancer-manager signed by an internal CA, with its login in ~/.netrc: read with the
inventory's ca_file and the netrc entry, refused (never read unverified) without the CA."""

from __future__ import annotations

import base64
import datetime
import http.server
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from console.balancer.clients import HttpdBalancer
from console.config.model import BalancerConfig
from probes.balancer.model import BalancerError

PAGE = (Path(__file__).parent / "data" / "balancer" / "real_2471_states.html").read_bytes()
LOGIN = ("ops", "s3cret pass")


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """An internal CA (ca.pem) and a server certificate for 127.0.0.1 it signed."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Internal Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = (
        directory / "ca.pem",
        directory / "cert.pem",
        directory / "key.pem",
    )
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_file, cert_file, key_file


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        wanted = "Basic " + base64.b64encode(":".join(LOGIN).encode()).decode()
        if self.headers.get("Authorization") != wanted:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="balancer"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def https_manager(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    ca_file, cert_file, key_file = _certificates(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/balancer-manager", ca_file
    finally:
        server.shutdown()
        server.server_close()


def _netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "netrc"
    path.write_text(f'machine 127.0.0.1\n  login {LOGIN[0]}\n  password "{LOGIN[1]}"\n')
    path.chmod(0o600)
    monkeypatch.setenv("NETRC", str(path))


async def test_internal_ca_file_and_netrc_login(
    https_manager: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca_file = https_manager
    _netrc(tmp_path, monkeypatch)
    balancer = HttpdBalancer(
        BalancerConfig("lb", "apache", url=url, ca_file=ca_file), writable=False
    )
    try:
        page = await balancer.read()
    finally:
        await balancer.aclose()
    assert [w.route for w in page.balancers[0].workers] == ["node1", "node2", "node3"]


async def test_without_the_ca_the_page_is_refused_never_read_unverified(
    https_manager: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = https_manager
    _netrc(tmp_path, monkeypatch)
    balancer = HttpdBalancer(BalancerConfig("lb", "apache", url=url), writable=False)
    try:
        with pytest.raises(BalancerError, match=r"(?i)certificate"):
            await balancer.read()
    finally:
        await balancer.aclose()


async def test_without_a_netrc_entry_the_login_is_missing(
    https_manager: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca_file = https_manager
    monkeypatch.setenv("NETRC", str(tmp_path / "none"))
    balancer = HttpdBalancer(
        BalancerConfig("lb", "apache", url=url, ca_file=ca_file), writable=False
    )
    try:
        with pytest.raises(BalancerError, match="401"):
            await balancer.read()
    finally:
        await balancer.aclose()
