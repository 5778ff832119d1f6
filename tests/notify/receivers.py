"""Real receivers started by the tests: an SMTP server (aiosmtpd) and an HTTP webhook receiver
(http.server), each in a thread of its own on a free loopback port, keeping what arrives."""

from __future__ import annotations

import email
import email.policy
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from governance.notifications import SIGNATURE_HEADER, verify_signature

HOST = "127.0.0.1"
SECRET = "s3cret-for-the-webhook-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())  # type: ignore[attr-defined]


class _Handler:
    def __init__(self, box: list[Mail]) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.box.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by itself, and its key: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@contextmanager
def smtp_server(
    login: tuple[str, str] | None = None, tls: tuple[Path, Path] | None = None
) -> Iterator[tuple[int, list[Mail]]]:
    """A real SMTP server on loopback: (port, the mails it received). With ``login``, it
    takes mail only from a client that authenticated with that user and password; with
    ``tls`` (cert, key), only over a connection that STARTTLS upgraded."""
    box: list[Mail] = []
    port = free_port()
    auth: dict[str, Any] = {}
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*map(str, tls))
        auth = {"tls_context": context, "require_starttls": True}
    if login is not None:

        def authenticator(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            given = (data.login.decode(), data.password.decode())
            return AuthResult(success=given == login, handled=False)

        auth |= {
            "authenticator": authenticator,
            "auth_required": True,
            "auth_require_tls": tls is not None,
        }
    controller = Controller(_Handler(box), hostname=HOST, port=port, **auth)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


@dataclass
class Hook:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def signed(self, secret: str = SECRET) -> bool:
        return verify_signature(secret, self.headers.get(SIGNATURE_HEADER, ""), self.body)


@dataclass
class Receiver:
    """A webhook receiver: answers ``status`` (200 when up, 503 when "down"), keeps every
    request it answered 2xx in ``received`` and every request in ``requests``; a request
    with ``hold`` set waits for it to clear before answering."""

    port: int = 0
    status: int = 200
    received: list[Hook] = field(default_factory=list)
    requests: int = 0
    hold: threading.Event | None = None
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/hook"

    def keys(self) -> list[str]:
        return [h.json["id"] for h in self.received]


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.requests += 1
                status = receiver.status
            receiver.arrived.set()
            if receiver.hold is not None:
                receiver.hold.wait(30)
            if 200 <= status < 300:
                with receiver.lock:
                    receiver.received.append(Hook(dict(self.headers.items()), body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # a burst of concurrent deliveries is not refused

    server = Server((HOST, 0), Handler)
    server.daemon_threads = True
    receiver.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        server.shutdown()
        server.server_close()


def config_yaml(smtp_port: int, hook_url: str, **delivery: float) -> str:
    """A notification configuration: e-mail to each recipient (gustav's address from the
    route), and every notification to the webhook."""
    policy = "".join(f"\n  {k}: {v}" for k, v in delivery.items())
    return f"""
version: 1
dashboard_url: https://pg.example.org
channels:
  mail:
    type: email
    host: {HOST}
    port: {smtp_port}
    security: none
    from: phasegate@example.org
  hook:
    type: webhook
    url: {hook_url}
    secret: ${{HOOK_SECRET}}
routes:
  - kinds: [gate_opened, reminder, escalation, decision]
    channels: [mail]
    addresses: {{gustav: gustav@example.org}}
  - channels: [hook]
delivery:{policy or " {}"}
"""
