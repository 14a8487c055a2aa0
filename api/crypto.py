"""Identity numbers at rest (NIK, KK; UU PDP 27/2022): encrypted with Fernet (AES-128-CBC +
HMAC-SHA256), and found again by a keyed hash (HMAC-SHA256) that reveals nothing without
the lookup key.

Keys come from configuration: LINDUNG_DATA_KEYS (Fernet keys, newest first; every one
decrypts, the first encrypts) and LINDUNG_LOOKUP_KEY. Without them both are derived from
LINDUNG_SECRET_KEY. To rotate: put a new key first in LINDUNG_DATA_KEYS, keep the old ones
after it, run `lindung keys rotate` (re-encrypts every stored number with the new key), then
drop the old keys.
"""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

_keys: dict = {}


def derived_key(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), f"lindung:{purpose}".encode(), hashlib.sha256).digest()


def configure(*, secret_key: str, data_keys: str | None, lookup_key: str | None) -> None:
    """Set the keys for this process (from the app's configuration)."""
    fernet_keys = [key.strip().encode() for key in (data_keys or "").split(",") if key.strip()]
    if not fernet_keys:
        fernet_keys = [base64.urlsafe_b64encode(derived_key(secret_key, "data-key"))]
    _keys["fernet"] = MultiFernet([Fernet(key) for key in fernet_keys])
    _keys["lookup"] = (lookup_key.encode() if lookup_key
                       else derived_key(secret_key, "lookup-key"))
    _keys["token"] = Fernet(base64.urlsafe_b64encode(derived_key(secret_key, "opaque-token")))


def sealed(text: str) -> str:
    """TEXT in an opaque, tamper-proof token (Fernet) that only this deployment opens."""
    return _keys["token"].encrypt(text.encode()).decode()


def opened(token: str) -> str | None:
    """The text sealed in TOKEN, or None when TOKEN was not sealed here or was changed."""
    try:
        return _keys["token"].decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def encrypt(text: str) -> str:
    return _keys["fernet"].encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    return _keys["fernet"].decrypt(token.encode()).decode()


def lookup_hash(text: str | None) -> str | None:
    """The keyed hash an identity number is searched and matched by."""
    if text is None:
        return None
    return hmac.new(_keys["lookup"], text.encode(), hashlib.sha256).hexdigest()


class EncryptedString(TypeDecorator):
    """A string stored encrypted; the application sees the plain text."""

    impl = String(255)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return encrypt(value) if value is not None else None

    def process_result_value(self, value, dialect):
        return decrypt(value) if value is not None else None
