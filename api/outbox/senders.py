"""Putting one delivery on the wire: a signed webhook POST (Standard Webhooks, signed with
the `standardwebhooks` package), or an e-mail over SMTP (STARTTLS and login supported).

Each sender answers with an Outcome and never raises for a failure of the other side: the
worker records it and tries again later.
"""

import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from standardwebhooks.webhooks import Webhook

USER_AGENT = "Lindung-Webhooks/1"
# Retry-After beyond this is read as this: a receiver cannot park an event past the window
LONGEST_RETRY_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class Outcome:
    """What one try gave: delivered or not, the HTTP status (None without an answer), an
    error in a few words, the receiver's Retry-After, and how long the try took (ms)."""

    delivered: bool
    status_code: int | None = None
    error: str | None = None
    retry_after: timedelta | None = None
    duration_ms: int = 0


def signed_headers(*, secret: str, message_id: str, body: str, at: datetime) -> dict:
    """The Standard Webhooks headers of BODY sent as MESSAGE_ID at AT (aware)."""
    signature = Webhook(secret).sign(msg_id=message_id, timestamp=at.astimezone(UTC), data=body)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature, "content-type": "application/json",
            "user-agent": USER_AGENT}


def post_signed(*, url: str, secret: str, message_id: str, body: str,
                timeout: timedelta) -> Outcome:
    """POST BODY (JSON text) to URL, signed; delivered on any 2xx answer. Redirects are not
    followed: a signed event goes only where the admin pointed it."""
    started = time.monotonic()
    headers = signed_headers(secret=secret, message_id=message_id, body=body,
                             at=datetime.now(UTC))
    try:
        answer = requests.post(url, data=body.encode(), headers=headers,
                               timeout=timeout.total_seconds(), allow_redirects=False)
    except requests.RequestException as error:
        return Outcome(False, error=_kind(error),
                       duration_ms=_since(started))
    delivered = 200 <= answer.status_code < 300
    return Outcome(delivered, status_code=answer.status_code,
                   error=None if delivered else f"HTTP {answer.status_code}",
                   retry_after=retry_after(answer.headers.get("Retry-After")),
                   duration_ms=_since(started))


def retry_after(value: str | None, *, now: datetime | None = None) -> timedelta | None:
    """A Retry-After header (seconds, or an HTTP date) as a wait, at most a day; None when
    absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        wait = timedelta(seconds=int(value))
    else:
        try:
            wait = parsedate_to_datetime(value) - (now or datetime.now(UTC))
        except (TypeError, ValueError):
            return None
    return max(timedelta(0), min(wait, LONGEST_RETRY_AFTER))


def send_mail(*, smtp_url: str, sender: str, to: str, subject: str, text: str,
              message_id: str, timeout: timedelta, ca_file: str | None = None) -> Outcome:
    """Send a plain-text e-mail through SMTP_URL: smtp://user:password@host:port?starttls=1
    (STARTTLS, then login when a user is given) or smtps://… (TLS from the start); the
    server's certificate is checked against CA_FILE, or the system's CAs."""
    started = time.monotonic()
    url = urlsplit(smtp_url)
    options = parse_qs(url.query)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = f"<{message_id}@lindung>"  # the same on every retry
    message.set_content(text)
    secure = url.scheme == "smtps"
    tls = ssl.create_default_context(cafile=ca_file)
    port = url.port or (465 if secure else 25)
    try:
        with (smtplib.SMTP_SSL(url.hostname, port, timeout=timeout.total_seconds(), context=tls)
              if secure else smtplib.SMTP(url.hostname, port,
                                          timeout=timeout.total_seconds())) as smtp:
            if not secure and options.get("starttls", ["0"])[0] in ("1", "true", "yes"):
                smtp.starttls(context=tls)
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        return Outcome(False, error=_kind(error),
                       duration_ms=_since(started))
    return Outcome(True, duration_ms=_since(started))


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _kind(error: Exception) -> str:
    # the kind of failure, not its text: an error may quote the URL's query or a header
    code = getattr(error, "smtp_code", None)
    return f"{type(error).__name__}{f' {code}' if code else ''}"[:255]
