"""GET /me; password login and logout; users and tokens (admin)."""

from flask import current_app, g
from flask.views import MethodView

from api.auth import service
from api.auth.bearer import BearerChallenge
from api.auth.policy import Operation
from api.auth.schemas import (
    AlertSchema,
    IssuedTokenSchema,
    LoginSchema,
    MeSchema,
    TokenCreateSchema,
    TokenSchema,
    UserCreateSchema,
    UserSchema,
    UserUpdateSchema,
)
from api.db import get_session, utcnow
from api.errors import PROBLEM_JSON, ProblemSchema
from api.idempotency.guard import IDEMPOTENCY_KEY_PARAMETER, idempotent
from api.outbox import messages
from api.outbox import service as outbox
from api.outbox.settings import OutboxSettings
from api.rest import CURSOR_PAGING_HEADERS, Blueprint

blp = Blueprint("me", __name__, url_prefix="/api/v1", description="The caller, users, tokens")


def _issued(token, value: str) -> dict:
    """A new token's row with its value, which only this one answer carries."""
    return {"id": token.id, "user_id": token.user_id, "token": value,
            "created_at": token.created_at, "expires_at": token.expires_at}


@blp.route("/me")
class Me(MethodView):
    @blp.requires(Operation.ME_READ)
    @blp.response(200, MeSchema)
    @blp.doc(operationId="getMe")
    def get(self, *, grant):
        """Who am I: role, areas, agency, and where alerts reach me"""
        user = service.get_user(session=get_session(), user_id=grant.principal.user_id)
        return {**vars(grant.principal),
                **{name: getattr(user, name) for name in service.CONTACT_FIELDS}}


def rendered_alerts(alerts) -> list[dict]:
    """A page of alerts, each put into words in its reader's language."""
    user = service.get_user(session=get_session(), user_id=g.alert_reader)
    public_url = OutboxSettings.from_environment().public_url
    return [{**{name: getattr(alert, name) for name in
                ("id", "kind", "case_id", "reference", "deadline", "created_at")},
             **vars(messages.render(alert, language=user.language, public_url=public_url))}
            for alert in alerts]


@blp.route("/me/alerts")
class MyAlerts(MethodView):
    @blp.requires(Operation.ALERT_LIST_OWN)
    @blp.response(200, AlertSchema(many=True), headers=CURSOR_PAGING_HEADERS)
    @blp.keyset(page_size=50, max_page_size=100, render=rendered_alerts)
    @blp.doc(operationId="listMyAlerts")
    def get(self, *, grant):
        """My alerts, newest first: emergencies, missed deadlines, declined referrals

        Each names the case by its reference, says what happened, by when, and links to the
        case; never a child's name, NIK, address or the narrative.
        """
        g.alert_reader = grant.principal.user_id  # the page renders in their language
        return outbox.list_alerts(user_id=grant.principal.user_id)


RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {"description": "Tries allowed in the window of the nearest limit",
                          "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Tries left in that window",
                              "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "When that window ends (seconds since the epoch)",
                          "schema": {"type": "integer"}},
}
RETRY_AFTER_HEADER = {"Retry-After": {"description": "Seconds to wait before trying again",
                                      "schema": {"type": "integer"}}}


@blp.route("/auth/tokens")
class AuthTokens(MethodView):
    @blp.public
    @blp.arguments(LoginSchema)
    @blp.response(201, IssuedTokenSchema, headers=RATE_LIMIT_HEADERS)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(429, schema=ProblemSchema, content_type=PROBLEM_JSON,
                      description="Too many tries: wait for Retry-After",
                      headers={**RETRY_AFTER_HEADER, **RATE_LIMIT_HEADERS})
    @blp.doc(operationId="logIn")
    def post(self, login):
        """Log in with a password: a session token

        The token stops working when left unused for LINDUNG_SESSION_IDLE_HOURS (default
        12 hours) and at `expires_at` (LINDUNG_SESSION_MAX_DAYS after the login, default 7
        days), or when revoked (DELETE /auth/tokens/current, DELETE /auth/tokens). Tries are
        limited to 5 a minute and 20 an hour per account, however the name is spaced or
        capitalised, and to 20 a minute per client address: then 429 with Retry-After.
        """
        session = get_session()
        user = service.log_in(session=session, username=login["username"],
                              password=login["password"])
        if user is None:
            raise BearerChallenge("Unknown user or wrong password.", invalid=False)
        return _issued(*service.start_session(
            session=session, user=user, now=utcnow(),
            lifetime=current_app.config["SESSION_MAX_AGE"])), 201

    @blp.requires(Operation.LOG_OUT_EVERYWHERE)
    @blp.response(204)
    @blp.doc(operationId="logOutEverywhere")
    def delete(self, *, grant):
        """Log out everywhere: revoke every token of the caller's account

        Any signed-in user, for their own account only. Every token of the account stops
        working at once, this one included: sessions on every device, and the API tokens of
        a machine account. Log in again afterwards.
        """
        service.revoke_tokens_of(session=get_session(), user_id=grant.principal.user_id,
                                 now=utcnow())


@blp.route("/auth/tokens/current")
class CurrentToken(MethodView):
    @blp.requires(Operation.LOG_OUT)
    @blp.response(204)
    @blp.doc(operationId="logOut")
    def delete(self, *, grant):
        """Log out: revoke the token this request carries

        Any signed-in user. The token stops working at once; the account's other sessions go
        on (DELETE /auth/tokens ends them all).
        """
        service.revoke_token(session=get_session(), token_id=grant.principal.token_id,
                             now=utcnow())


@blp.route("/users")
class Users(MethodView):
    @blp.requires(Operation.USER_LIST)
    @blp.response(200, UserSchema(many=True), headers=CURSOR_PAGING_HEADERS)
    @blp.keyset(page_size=50, max_page_size=100)
    @blp.doc(operationId="listUsers")
    def get(self, *, grant):
        """The user accounts: admins every one, supervisors the people working in their
        areas (read-only)"""
        return service.list_users(grant=grant)

    @blp.requires(Operation.USER_CREATE)
    @idempotent
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(operationId="createUser")
    def post(self, user, *, grant):
        """Add a user (admin); issue a token with POST /users/{id}/tokens"""
        created = service.create_user(session=get_session(), username=user["username"],
                                      role=user["role"], area_codes=user["area_codes"],
                                      agency_code=user.get("agency"),
                                      contact={name: user[name] for name in
                                               service.CONTACT_FIELDS if name in user})
        return created, 201


@blp.route("/users/<uuid:user_id>")
class UserById(MethodView):
    @blp.requires(Operation.USER_UPDATE)
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="updateUser")
    def patch(self, changes, user_id, *, grant):
        """Change where a user's alerts go: e-mail, phone, language (admin)"""
        session = get_session()
        user = service.get_user(session=session, user_id=user_id)
        return service.change_contact(session=session, user=user, changes=changes)


@blp.route("/users/<uuid:user_id>/tokens")
class UserTokens(MethodView):
    @blp.requires(Operation.TOKEN_CREATE)
    @blp.arguments(TokenCreateSchema, required=False)
    @blp.response(201, IssuedTokenSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="issueUserToken")
    def post(self, options, user_id, *, grant):
        """Issue an API token for a machine account or for yourself (admin)

        Admins issue tokens for machine accounts (role agency_system) and for themselves only:
        for a person's account the answer is 403, as a token would let the admin act under
        that person's name; people log in with their own password (POST /auth/tokens). The
        token is shown only in this answer.
        """
        return _issued(*service.issue_token_for(
            session=get_session(), grant=grant, user_id=user_id,
            expires_at=options.get("expires_at"))), 201


@blp.route("/tokens/<uuid:token_id>")
class TokenById(MethodView):
    @blp.requires(Operation.TOKEN_REVOKE)
    @blp.response(200, TokenSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="revokeToken")
    def delete(self, token_id, *, grant):
        """Revoke a token at once (admin)"""
        return service.revoke_token(session=get_session(), token_id=token_id, now=utcnow())
