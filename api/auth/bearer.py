"""Bearer-token authentication of the current request, and `authorize` for views."""

from functools import wraps

from flask import current_app, g, request
from werkzeug.exceptions import Unauthorized

from api.auth import service
from api.auth.policy import CASE_VIEWS, Grant, Operation, Principal, decide
from api.db import database, utcnow


class BearerChallenge(Unauthorized):
    """401 with the RFC 6750 challenge, its parameters quoted as the RFC writes them."""

    def __init__(self, detail: str, *, invalid: bool):
        super().__init__(description=detail)
        self.challenge = 'Bearer realm="lindung"' + (', error="invalid_token"' if invalid else "")

    def get_headers(self, environ=None, scope=None):
        return [*super().get_headers(environ, scope), ("WWW-Authenticate", self.challenge)]


def current_principal() -> Principal:
    """The caller behind the Authorization header; 401 when missing, unknown, revoked,
    expired, or a session left unused too long."""
    if "principal" in g:
        return g.principal
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise BearerChallenge("A bearer token is required.", invalid=False)
    now = utcnow()
    # looked up, and its use written, in transactions of their own, ahead of the request's:
    # the use counts whatever the request's fate, and no request holds the token's row.
    # One statement on the token hash's unique index (service.token_owner).
    with database().session(writes=False) as lookup:
        found = service.token_owner(session=lookup, token=token.strip(), now=now,
                                    idle_timeout=current_app.config["SESSION_IDLE"])
    if found is None:
        raise BearerChallenge("The token is invalid, expired or revoked.", invalid=True)
    api_token, holder = found
    g.principal = Principal(
        user_id=holder.id, username=holder.username, role=holder.role,
        area_codes=holder.area_codes, agency_code=holder.agency_code, token_id=api_token.id,
    )
    if service.use_to_record(api_token, now):
        with database().session() as writer:
            service.record_use(session=writer, token_id=api_token.id, now=now)
            writer.commit()
    return g.principal


def authorize(operation: Operation) -> Grant:
    """Authenticate, then check the policy: 401 without a valid token, 403 without a grant."""
    return decide(current_principal(), operation)


def guard(operation: Operation):
    """Decorator: authorize before anything else is parsed; the view receives `grant`."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            grant = g.grant = authorize(operation)
            # the serializers read it: each role gets its own view of a case (policy.CASE_VIEWS)
            g.case_view = CASE_VIEWS.get(grant.principal.role)
            return view(*args, grant=grant, **kwargs)

        return wrapper

    return decorator
