"""Users and tokens: creation, lookup by bearer token, sessions from a password login."""

import hashlib
import hmac
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2 import exceptions as argon2_exceptions
from sqlalchemy import Select, false, or_, select, update
from sqlalchemy.orm import Session

from api.agencies.models import Agency
from api.auth.models import ApiToken, User, UserArea
from api.auth.passwords import password_problems
from api.auth.policy import AGENCY_ROLES, AREA_ROLES, Grant, Scope, check_token_issue
from api.db import utcnow
from api.errors import Conflict, InvalidInput, NotFound
from api.regions.service import existing_codes
from api.vocabularies.codes import Role

TOKEN_PREFIX = "lnd_"
_password_hasher = PasswordHasher()  # argon2id with the library's current parameters
_DUMMY_HASH = _password_hasher.hash("not a password of anyone")
# a token's last use is written at most this often: authenticating stays a read, and the
# idle timeout (hours) is kept to within these minutes
USE_RECORDED_EVERY = timedelta(minutes=5)


def normalise_username(username: str) -> str:
    """A username as stored and as looked up: NFKC, without surrounding white space,
    case-folded (as RFC 8265's UsernameCaseMapped profile maps width and case), so that
    "  Ani" is "ani"."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token_value() -> str:
    """An opaque bearer token of 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_user(*, session: Session, username: str, role: Role, area_codes: list[str],
                agency_code: str | None = None, password: str | None = None,
                contact: dict | None = None) -> User:
    """Add a user after checking that role, areas and agency fit together and that the
    password, if any, keeps the rules of auth/passwords.py."""
    errors: dict[str, list[str]] = {}
    username = normalise_username(username)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"A user named {username!r} exists already.")
    if password is not None and (problems := password_problems(password, username=username)):
        errors["password"] = problems
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
        **(contact or {}),
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
                       expires_at: datetime | None = None,
                       is_session: bool = False) -> tuple[ApiToken, str]:
    """A new token row for USER and its value (the value is never stored)."""
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput({"expires_at": ["Must be in the future."]})
    value = value or new_token_value()
    token = ApiToken(user_id=user.id, token_hash=hash_token(value), expires_at=expires_at,
                     is_session=is_session)
    session.add(token)
    session.flush()
    return token, value


def issue_token_for(*, session: Session, grant: Grant, user_id,
                    expires_at: datetime | None) -> tuple[ApiToken, str]:
    """An admin's new API token for a machine account or for the admin (policy.
    check_token_issue: 403 for anybody else), and its value."""
    user = get_user(session=session, user_id=user_id)
    check_token_issue(grant.principal, holder_id=user.id, holder_role=user.role)
    return issue_token_record(session=session, user=user, expires_at=expires_at)


def start_session(*, session: Session, user: User, now: datetime,
                  lifetime: timedelta) -> tuple[ApiToken, str]:
    """The session token of a password login: it ends LIFETIME after NOW at the latest
    (LINDUNG_SESSION_MAX_DAYS), sooner when left unused (token_owner's IDLE_TIMEOUT)."""
    return issue_token_record(session=session, user=user, expires_at=now + lifetime,
                              is_session=True)


def list_users(*, grant: Grant) -> Select:
    """The accounts GRANT covers, by username: every one (ANY), or under an AREA grant the
    people working in the caller's areas (working_in)."""
    query = select(User).order_by(User.username)
    if grant.scope is Scope.AREA:
        query = query.where(User.id.in_(working_in(grant.principal.area_codes)))
    return query


def working_in(area_codes) -> Select:
    """The ids of the users with an area inside one of AREA_CODES."""
    inside = [UserArea.region_code.startswith(code, autoescape=True) for code in area_codes]
    return select(UserArea.user_id).where(or_(*inside) if inside else false())


CONTACT_FIELDS = ("email", "phone", "language")


def change_contact(*, session: Session, user: User, changes: dict) -> User:
    """Set USER's e-mail, phone (None removes them) and alert language."""
    if not changes:
        raise InvalidInput({"_schema": ["Nothing to change: send email, phone or language."]})
    for name, value in changes.items():
        setattr(user, name, value)
    session.flush()
    return user


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


def revoke_tokens_of(*, session: Session, user_id, now: datetime) -> int:
    """Revoke every live token of the account USER_ID (log out everywhere); how many."""
    return session.execute(
        update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)).rowcount


def demo_token_value(*, secret_key: str, username: str) -> str:
    """A stable token for a demo user, so `lindung demo` can print it again on every run."""
    digest = hmac.new(secret_key.encode(), f"demo-token:{username}".encode(), hashlib.sha256)
    return TOKEN_PREFIX + digest.hexdigest()


def demo_password_value(*, secret_key: str, username: str) -> str:
    """A stable password for a demo user (four groups of four hex digits, typeable on a
    phone), so `lindung demo` can print it again on every run."""
    digest = hmac.new(secret_key.encode(), f"demo-password:{username}".encode(),
                      hashlib.sha256).hexdigest()
    return "-".join(digest[i:i + 4] for i in range(0, 16, 4))


def ensure_password(*, session: Session, user: User, password: str) -> None:
    """Give USER the password PASSWORD (rules of auth/passwords.py) unless it is theirs
    already."""
    if user.password_hash is not None:
        try:
            if _password_hasher.verify(user.password_hash, password):
                return
        except argon2_exceptions.VerificationError:
            pass
    if problems := password_problems(password, username=user.username):
        raise InvalidInput({"password": problems})
    user.password_hash = _password_hasher.hash(password)
    session.flush()


def ensure_token(*, session: Session, user: User, value: str) -> None:
    if session.scalar(select(ApiToken.id).where(ApiToken.token_hash == hash_token(value))) is None:
        issue_token(session=session, user=user, value=value)


@dataclass(frozen=True)
class TokenUse:
    """What authenticating needs of a token row: its id and when it was last used."""

    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class TokenHolder:
    """What a Principal is made of: the token holder's account and areas."""

    id: uuid.UUID
    username: str
    role: Role
    agency_code: str | None
    area_codes: tuple[str, ...]


def token_owner(*, session: Session, token: str, now: datetime,
                idle_timeout: timedelta) -> tuple[TokenUse, TokenHolder] | None:
    """The live token and its active user for a bearer value, or None: revoked, expired, or a
    session token unused for IDLE_TIMEOUT (LINDUNG_SESSION_IDLE_HOURS).

    One statement on the unique index of the token's SHA-256, reading only the columns a
    Principal needs: a row per area of the holder (one row, area NULL, for none)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    rows = session.execute(
        select(ApiToken.id, ApiToken.created_at, ApiToken.last_used_at, ApiToken.expires_at,
               ApiToken.is_session, User.id.label("user_id"), User.username, User.role,
               User.agency_code, UserArea.region_code)
        .join(User, User.id == ApiToken.user_id)
        .outerjoin(UserArea, UserArea.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None),
               User.active.is_(True))
        .order_by(UserArea.region_code)).all()
    if not rows:
        return None
    first = rows[0]
    use = TokenUse(id=first.id, created_at=first.created_at, last_used_at=first.last_used_at)
    if first.expires_at is not None and first.expires_at <= now:
        return None
    if first.is_session and last_use(use) + idle_timeout <= now:
        return None
    holder = TokenHolder(
        id=first.user_id, username=first.username, role=first.role,
        agency_code=first.agency_code,
        area_codes=tuple(row.region_code for row in rows if row.region_code is not None))
    return use, holder


def last_use(token: ApiToken | TokenUse) -> datetime:
    """When TOKEN was last used, to within USE_RECORDED_EVERY (its creation if never)."""
    return token.last_used_at or token.created_at


def use_to_record(token: ApiToken | TokenUse, now: datetime) -> bool:
    """Whether a use of TOKEN at NOW is to be written (at most once per USE_RECORDED_EVERY)."""
    return last_use(token) + USE_RECORDED_EVERY <= now


def record_use(*, session: Session, token_id, now: datetime) -> None:
    """Write the token's last use; a concurrent request that wrote it already wins, so a
    token's row is written once per USE_RECORDED_EVERY however many requests use it."""
    session.execute(update(ApiToken).where(
        ApiToken.id == token_id,
        or_(ApiToken.last_used_at.is_(None),
            ApiToken.last_used_at <= now - USE_RECORDED_EVERY)).values(last_used_at=now))


def log_in(*, session: Session, username: str, password: str) -> User | None:
    """The active user USERNAME (normalised, as limits.account_of_request counts it) if
    PASSWORD is theirs (argon2id), else None; the answer takes as long for an unknown name as
    for a wrong password."""
    user = user_by_name(session=session, username=username)
    stored = user.password_hash if user is not None and user.active else None
    try:
        _password_hasher.verify(stored or _DUMMY_HASH, password)
    except argon2_exceptions.VerificationError:
        return None
    return user if stored else None


def user_by_name(*, session: Session, username: str) -> User | None:
    """The user called USERNAME, however it is spaced or capitalised (normalise_username)."""
    return session.scalar(select(User).where(User.username == normalise_username(username)))
