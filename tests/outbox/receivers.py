"""Real local receivers: an HTTP endpoint in a thread (http.server) that records every
request and answers from a script, and an SMTP server (aiosmtpd)."""

import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path

from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Receipt:
    """One request the receiver got, and the status it answered."""

    headers: dict
    body: bytes
    status: int
    at: float


@dataclass
class Receiver:
    """An HTTP endpoint on 127.0.0.1:PORT. `answer(receipt_count) -> (status, headers)`
    decides each answer (200 by default); `delay` slows every answer (seconds)."""

    port: int = field(default_factory=free_port)
    answer: Callable[[int], tuple[int, dict]] = lambda _count: (200, {})
    delay: float = 0.0
    receipts: list[Receipt] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/lindung"

    def start(self) -> "Receiver":
        receiver = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with lock:
                    status, headers = receiver.answer(len(receiver.receipts))
                    receiver.receipts.append(Receipt(
                        {k.lower(): v for k, v in self.headers.items()}, body, status,
                        time.monotonic()))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def delivered(self) -> list[Receipt]:
        """The receipts answered 2xx, in arrival order."""
        return [r for r in self.receipts if 200 <= r.status < 300]


class Mailbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files in DIRECTORY."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that requires STARTTLS (a self-signed certificate,
    `ca_file`) and then a login (user `lindung`, password `rahasia`); `messages` holds the
    envelopes it accepted."""

    USER, PASSWORD = "lindung", "rahasia"

    def __init__(self, directory: Path):
        self.mailbox = Mailbox()
        self.port = free_port()
        self.logins = []
        self.ca_file, key_file = self_signed_certificate(directory)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.ca_file, key_file)

        def authenticate(server, session, envelope, mechanism, auth_data):
            from aiosmtpd.smtp import AuthResult

            self.logins.append(auth_data.login)
            ok = auth_data.login == self.USER.encode() and \
                auth_data.password == self.PASSWORD.encode()
            return AuthResult(success=ok)

        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port,
                                     authenticator=authenticate, auth_required=True,
                                     tls_context=tls, require_starttls=True)

    @property
    def url(self) -> str:
        return f"smtp://{self.USER}:{self.PASSWORD}@127.0.0.1:{self.port}?starttls=1"

    @property
    def messages(self):
        return self.mailbox.messages

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
