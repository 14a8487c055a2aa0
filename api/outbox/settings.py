"""How the outbox reaches the world, from the environment (LINDUNG_*).

Read by the worker only: the services that write events need none of it.
"""

import os
from dataclasses import dataclass
from datetime import timedelta


def _seconds(name: str, default: float) -> timedelta:
    return timedelta(seconds=float(os.environ.get(name, default)))


@dataclass(frozen=True)
class OutboxSettings:
    """Delivery settings; times as timedelta."""

    # e-mail: smtp://user:password@host:port?starttls=1 (smtps:// for TLS from the start)
    smtp_url: str | None = None
    # the CA bundle that signs the SMTP server's certificate, when not the system's
    smtp_ca_file: str | None = None
    mail_from: str = "Lindung <lindung@localhost>"
    # the city's WhatsApp/SMS gateway, signed like agency webhooks (whsec_…)
    alert_webhook_url: str | None = None
    alert_webhook_secret: str | None = None
    # links in alerts: PUBLIC_URL + /app/kasus/<case id>
    public_url: str = "http://127.0.0.1:5000"
    # an HTTP or SMTP try gives up after this long
    timeout: timedelta = timedelta(seconds=10)
    # retries: base × 2^(attempt-1), at most `backoff_cap`, jittered; given up once the
    # delivery is older than `retry_window` (DESIGN §7: at least a day)
    backoff_base: timedelta = timedelta(seconds=10)
    backoff_cap: timedelta = timedelta(hours=1)
    retry_window: timedelta = timedelta(hours=26)
    # a worker's claim on a delivery; a killed worker's claims expire after it
    lease: timedelta = timedelta(seconds=60)
    batch_size: int = 20
    # how often the worker looks for due deliveries and for missed deadlines
    poll_interval: timedelta = timedelta(seconds=1)
    scan_interval: timedelta = timedelta(seconds=30)

    @classmethod
    def from_environment(cls) -> "OutboxSettings":
        env = os.environ
        return cls(
            smtp_url=env.get("LINDUNG_SMTP_URL") or None,
            smtp_ca_file=env.get("LINDUNG_SMTP_CA_FILE") or None,
            mail_from=env.get("LINDUNG_MAIL_FROM", cls.mail_from),
            alert_webhook_url=env.get("LINDUNG_ALERT_WEBHOOK_URL") or None,
            alert_webhook_secret=env.get("LINDUNG_ALERT_WEBHOOK_SECRET") or None,
            public_url=env.get("LINDUNG_PUBLIC_URL", cls.public_url).rstrip("/"),
            timeout=_seconds("LINDUNG_DELIVERY_TIMEOUT_SECONDS", 10),
            backoff_base=_seconds("LINDUNG_DELIVERY_BACKOFF_SECONDS", 10),
            backoff_cap=_seconds("LINDUNG_DELIVERY_BACKOFF_CAP_SECONDS", 3600),
            retry_window=timedelta(hours=float(env.get("LINDUNG_DELIVERY_RETRY_HOURS", 26))),
            lease=_seconds("LINDUNG_WORKER_LEASE_SECONDS", 60),
            batch_size=int(env.get("LINDUNG_WORKER_BATCH", 20)),
            poll_interval=_seconds("LINDUNG_WORKER_POLL_SECONDS", 1),
            scan_interval=_seconds("LINDUNG_ALERT_SCAN_SECONDS", 30),
        )
