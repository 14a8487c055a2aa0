"""Users and tokens: creation, lookup by bearer token."""

import hashlib
import hmac
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2 import exceptions as argon2_exceptions
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.agencies.models import Agency
from api.auth.models import ApiToken, User, UserArea
from api.auth.policy import AGENCY_ROLES, AREA_ROLES
from api.db import utcnow
from api.errors import Conflict, InvalidInput, NotFound
from api.regions.service import existing_codes
from api.vocabularies.codes import Role

TOKEN_PREFIX = "lnd_"
_password_hasher = PasswordHasher()  # argon2id with the library's current parameters
_DUMMY_HASH = _password_hasher.hash("not a password of anyone")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token_value() -> str:
    """An opaque bearer token of 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_user(*, session: Session, username: str, role: Role, area_codes: list[str],
                agency_code: str | None = None, password: str | None = None) -> User:
    """Add a user after checking that role, areas and agency fit together."""
    errors: dict[str, list[str]] = {}
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"A user named {username!r} exists already.")
    unknown = set(area_codes) - existing_codes(session=session, candidates=area_codes)
    if unknown:
        errors["area_codes"] = [f"Unknown region code(s): {', '.join(sorted(unknown))}."]
    elif role in AREA_ROLES and not area_codes:
        errors["area_codes"] = [f"The role {role.value} needs at least one area."]
    if role in AGENCY_ROLES and agency_code is None:
        errors["agency"] = [f"The role {role.value} needs an agency."]
    elif agency_code is not None and session.get(Agency, agency_code) is None:
        errors["agency"] = [f"No agency has the code {agency_code}."]
    if role not in AGENCY_ROLES and agency_code is not None:
        errors["agency"] = [f"The role {role.value} belongs to no agency."]
    if errors:
        raise InvalidInput(errors)
    user = User(
        username=username, role=role, agency_code=agency_code,
        password_hash=_password_hasher.hash(password) if password else None,
        areas=[UserArea(region_code=code) for code in dict.fromkeys(area_codes)],
    )
    session.add(user)
    session.flush()
    return user


def issue_token(*, session: Session, user: User, value: str | None = None,
                expires_at: datetime | None = None) -> str:
    """Store a new token for USER and return its value (shown once, stored hashed)."""
    return issue_token_record(session=session, user=user, value=value,
                              expires_at=expires_at)[1]


def issue_token_record(*, session: Session, user: User, value: str | None = None,
                       expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token row for USER and its value (the value is never stored)."""
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput({"expires_at": ["Must be in the future."]})
    value = value or new_token_value()
    token = ApiToken(user_id=user.id, token_hash=hash_token(value), expires_at=expires_at)
    session.add(token)
    session.flush()
    return token, value


def list_users() -> Select:
    return select(User).order_by(User.username)


def get_user(*, session: Session, user_id) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def revoke_token(*, session: Session, token_id, now: datetime) -> ApiToken:
    """Revoke at once: the next request with it is refused (401)."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
    return token


def demo_token_value(*, secret_key: str, username: str) -> str:
    """A stable token for a demo user, so `lindung demo` can print it again on every run."""
    digest = hmac.new(secret_key.encode(), f"demo-token:{username}".encode(), hashlib.sha256)
    return TOKEN_PREFIX + digest.hexdigest()


def ensure_token(*, session: Session, user: User, value: str) -> None:
    if session.scalar(select(ApiToken.id).where(ApiToken.token_hash == hash_token(value))) is None:
        issue_token(session=session, user=user, value=value)


def token_owner(*, session: Session, token: str) -> tuple[ApiToken, User] | None:
    """The live token and its active user for a bearer value, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    return row, row.user


def log_in(*, session: Session, username: str, password: str) -> User | None:
    """The active user USERNAME if PASSWORD is theirs (argon2id), else None; the answer takes
    as long for an unknown name as for a wrong password."""
    user = user_by_name(session=session, username=username)
    stored = user.password_hash if user is not None and user.active else None
    try:
        _password_hasher.verify(stored or _DUMMY_HASH, password)
    except argon2_exceptions.VerificationError:
        return None
    return user if stored else None


def user_by_name(*, session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))
