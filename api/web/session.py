"""Web sessions: a password login (argon2id, auth/service.py) gives a session token, kept in
the signed, HttpOnly session cookie; every page authenticates with it exactly as the API
authenticates a bearer token, and is authorized by the same policy (auth/policy.py).

The token carries the idle timeout and the maximum lifetime (LINDUNG_SESSION_IDLE_HOURS,
LINDUNG_SESSION_MAX_DAYS) and is revoked at logout; logging out everywhere revokes every token
of the account. Nothing about access is decided here: `grant_for` asks policy.decide.
"""

from flask import current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface

from api.auth import service
from api.auth.policy import CASE_VIEWS, POLICY, Grant, Operation, Principal, decide
from api.db import database, get_session, utcnow
from api.errors import DomainError

COOKIE_NAME = "lindung_web"
TOKEN = "token"


class NotSignedIn(DomainError):
    """No live session: the page sends the person to the login form."""

    status = 401
    slug = "not-signed-in"
    title = "Not signed in"


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie session, Secure whenever the request came over https (behind
    a proxy: with werkzeug's ProxyFix), or always with SESSION_COOKIE_SECURE."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def configure_cookies(app) -> None:
    """HttpOnly, SameSite=Lax, scoped to /app, ending with the browser session."""
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/app",
    )
    app.session_interface = SessionCookies()


def sign_in(*, username: str, password: str) -> bool:
    """Check the password and start a session token for the browser; False when wrong."""
    db_session = get_session()
    user = service.log_in(session=db_session, username=username, password=password)
    if user is None:
        return False
    api_token, value = service.start_session(session=db_session, user=user, now=utcnow(),
                                             lifetime=current_app.config["SESSION_MAX_AGE"])
    replaced = signed_in()
    if replaced is not None:  # someone else's (or an older) session on this browser ends
        service.revoke_token(session=db_session, token_id=replaced.token_id, now=utcnow())
    session.clear()  # a new session: nothing (not even a CSRF secret) survives a login
    session[TOKEN] = value
    # the rest of this request (where to land) acts as the new person: their token is not
    # committed yet, so a lookup of its own would not find it
    g.principal = Principal(
        user_id=user.id, username=user.username, role=user.role,
        area_codes=tuple(user.area_codes), agency_code=user.agency_code,
        token_id=api_token.id)
    return True


def sign_out(*, everywhere: bool) -> None:
    """Revoke this browser's token (EVERYWHERE: every token of the account) and forget it."""
    principal = signed_in()
    if principal is not None:
        if everywhere:
            service.revoke_tokens_of(session=get_session(), user_id=principal.user_id,
                                     now=utcnow())
        else:
            service.revoke_token(session=get_session(), token_id=principal.token_id,
                                 now=utcnow())
    session.clear()


def signed_in() -> Principal | None:
    """The person behind the session cookie, or None (no cookie, or its token revoked,
    expired, or left unused longer than the idle timeout)."""
    if "principal" in g:
        return g.principal
    token = session.get(TOKEN)
    if not isinstance(token, str):
        return None
    now = utcnow()
    # as bearer.current_principal: looked up and its use written in transactions of their own
    with database().session(writes=False) as lookup:
        found = service.token_owner(session=lookup, token=token, now=now,
                                    idle_timeout=current_app.config["SESSION_IDLE"])
        if found is None:
            session.pop(TOKEN, None)
            return None
        api_token, user = found
        g.principal = Principal(
            user_id=user.id, username=user.username, role=user.role,
            area_codes=tuple(user.area_codes), agency_code=user.agency_code,
            token_id=api_token.id)
    if service.use_to_record(api_token, now):
        with database().session() as writer:
            service.record_use(session=writer, token_id=api_token.id, now=now)
            writer.commit()
    return g.principal


def grant_for(operation: Operation, *, acting: bool = True) -> Grant:
    """The signed-in person's grant for OPERATION, as the API's guard makes it: NotSignedIn
    without a session, Forbidden (403) when the policy gives the role none. ACTING False:
    the page only shows the form of OPERATION; access is decided alike, but the request's
    audit event does not claim the operation was done."""
    principal = signed_in()
    if principal is None:
        raise NotSignedIn("Sign in first.")
    grant = decide(principal, operation)
    if acting:
        g.grant = grant
    g.case_view = CASE_VIEWS.get(principal.role)
    return grant


def allowed(operation: Operation, scopes=None) -> bool:
    """Whether the signed-in person's role may perform OPERATION (for the navigation);
    with SCOPES, only under one of those scopes (the agencies' board: Scope.AGENCY)."""
    principal = signed_in()
    if principal is None or principal.role not in POLICY[operation]:
        return False
    return scopes is None or POLICY[operation][principal.role] in scopes
