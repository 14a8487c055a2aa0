"""Configuration read from the environment (LINDUNG_*)."""

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

API_TITLE = "Lindung"
API_VERSION = "v1"
OPENAPI_VERSION = "3.0.3"


def instance_path() -> Path:
    """The folder holding the embedded database and the generated secret key."""
    return Path(os.environ.get("LINDUNG_INSTANCE_PATH", Path.cwd() / "instance")).resolve()


def default_database_url() -> str:
    return f"sqlite:///{instance_path() / 'lindung.sqlite3'}"


def secret_key() -> str:
    """LINDUNG_SECRET_KEY, or a key generated once into the instance folder."""
    if key := os.environ.get("LINDUNG_SECRET_KEY"):
        return key
    path = instance_path() / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: several workers starting at once must agree on one key
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def cors_origins(listed: str) -> list[str]:
    """LINDUNG_CORS_ORIGINS, a comma-separated list of origins (https://portal.example.go.id,
    http://localhost:8080) → the list; ValueError for anything but scheme://host[:port]
    (a path, a wildcard or a pattern would let pages of other origins in)."""
    origins = [origin.strip().rstrip("/") for origin in listed.split(",") if origin.strip()]
    for origin in origins:
        if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", origin):
            raise ValueError(f"LINDUNG_CORS_ORIGINS: {origin!r} is not an origin such as "
                             "https://portal.example.go.id")
    return origins


def _hours(name: str, default: float) -> timedelta:
    return timedelta(hours=float(os.environ.get(name, default)))


def from_environment() -> dict:
    """The application configuration, from LINDUNG_* variables with safe defaults."""
    return {
        "DATABASE_URL": os.environ.get("LINDUNG_DATABASE_URL") or default_database_url(),
        "SECRET_KEY": secret_key(),
        # SLA: time to triage a new report (DESIGN §5)
        "TRIAGE_DUE_EMERGENCY": _hours("LINDUNG_TRIAGE_DUE_EMERGENCY_HOURS", 1),
        "TRIAGE_DUE_DEFAULT": _hours("LINDUNG_TRIAGE_DUE_HOURS", 24),
        "RESPONSE_DUE_HIGH": _hours("LINDUNG_RESPONSE_DUE_HIGH_HOURS", 1),
        "RESPONSE_DUE_MEDIUM": _hours("LINDUNG_RESPONSE_DUE_MEDIUM_HOURS", 6),
        "RESPONSE_DUE_LOW": _hours("LINDUNG_RESPONSE_DUE_LOW_HOURS", 24),
        "IDEMPOTENCY_TTL": _hours("LINDUNG_IDEMPOTENCY_TTL_HOURS", 48),
        # an in-flight claim older than this was abandoned (twice the server's request timeout)
        "IDEMPOTENCY_CLAIM_TIMEOUT": timedelta(
            seconds=float(os.environ.get("LINDUNG_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS", 120))
        ),
        # the calendar of regions outside the province table of api/regions/calendar.py
        "TIMEZONE": os.environ.get("LINDUNG_TIMEZONE", "Asia/Makassar"),
        # identity numbers at rest (api/crypto.py); derived from SECRET_KEY when unset
        "DATA_KEYS": os.environ.get("LINDUNG_DATA_KEYS"),
        "LOOKUP_KEY": os.environ.get("LINDUNG_LOOKUP_KEY"),
        # login limits (auth/limits.py): unset, counted in the application's database
        "RATE_LIMIT_STORAGE": os.environ.get("LINDUNG_RATELIMIT_STORAGE_URI") or None,
        "RATE_LIMIT_PREFIX": os.environ.get("LINDUNG_RATELIMIT_PREFIX", "lindung"),
        # a password login's token ends when unused this long, and this long after the login
        "SESSION_IDLE": _hours("LINDUNG_SESSION_IDLE_HOURS", 12),
        "SESSION_MAX_AGE": timedelta(days=float(os.environ.get("LINDUNG_SESSION_MAX_DAYS", 7))),
        # web origins whose pages may call the API (api/http.py); none: no CORS at all
        "CORS_ORIGINS": cors_origins(os.environ.get("LINDUNG_CORS_ORIGINS", "")),
        # proxies in front that set X-Forwarded-For/-Proto (0: clients connect directly); the
        # client's address then counts for login limits, the audit log and /metrics
        "PROXY_HOPS": int(os.environ.get("LINDUNG_PROXY_HOPS", "0")),
        "API_TITLE": API_TITLE,
        "API_VERSION": API_VERSION,
        "OPENAPI_VERSION": OPENAPI_VERSION,
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
        "JSON_SORT_KEYS": False,
    }
