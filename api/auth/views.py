"""GET /me; users and tokens (admin)."""

from flask.views import MethodView

from api.auth import service
from api.auth.bearer import BearerChallenge
from api.auth.policy import Operation
from api.auth.schemas import (
    IssuedTokenSchema,
    LoginSchema,
    MeSchema,
    TokenCreateSchema,
    TokenSchema,
    UserCreateSchema,
    UserSchema,
)
from api.db import get_session, utcnow
from api.idempotency.guard import IDEMPOTENCY_KEY_PARAMETER, idempotent
from api.rest import Blueprint, SelectPage

blp = Blueprint("me", __name__, url_prefix="/api/v1", description="The caller, users, tokens")


def _issued(token, value: str) -> dict:
    """A new token's row with its value, which only this one answer carries."""
    return {"id": token.id, "user_id": token.user_id, "token": value,
            "created_at": token.created_at, "expires_at": token.expires_at}


@blp.route("/me")
class Me(MethodView):
    @blp.requires(Operation.ME_READ)
    @blp.response(200, MeSchema)
    def get(self, *, grant):
        """Who am I: role, areas and agency of the token's user"""
        return grant.principal


@blp.route("/auth/tokens")
class AuthTokens(MethodView):
    @blp.public
    @blp.arguments(LoginSchema)
    @blp.response(201, IssuedTokenSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, login):
        """Log in with a password: a new API token (limited per account and address; 429 with
        Retry-After when exceeded)"""
        session = get_session()
        user = service.log_in(session=session, username=login["username"],
                              password=login["password"])
        if user is None:
            raise BearerChallenge("Unknown user or wrong password.", invalid=False)
        return _issued(*service.issue_token_record(session=session, user=user)), 201


@blp.route("/users")
class Users(MethodView):
    @blp.requires(Operation.USER_LIST)
    @blp.response(200, UserSchema(many=True))
    @blp.paginate(SelectPage, page_size=50, max_page_size=100)
    def get(self, *, grant):
        """The user accounts (admin)"""
        return service.list_users()

    @blp.requires(Operation.USER_CREATE)
    @idempotent
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, user, *, grant):
        """Add a user (admin); issue a token with POST /users/{id}/tokens"""
        created = service.create_user(session=get_session(), username=user["username"],
                                      role=user["role"], area_codes=user["area_codes"],
                                      agency_code=user.get("agency"))
        return created, 201


@blp.route("/users/<uuid:user_id>/tokens")
class UserTokens(MethodView):
    @blp.requires(Operation.TOKEN_CREATE)
    @blp.arguments(TokenCreateSchema, required=False)
    @blp.response(201, IssuedTokenSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, options, user_id, *, grant):
        """Issue an API token for a user (admin); the token is shown only in this answer"""
        session = get_session()
        user = service.get_user(session=session, user_id=user_id)
        return _issued(*service.issue_token_record(
            session=session, user=user, expires_at=options.get("expires_at"))), 201


@blp.route("/tokens/<uuid:token_id>")
class TokenById(MethodView):
    @blp.requires(Operation.TOKEN_REVOKE)
    @blp.response(200, TokenSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, token_id, *, grant):
        """Revoke a token at once (admin)"""
        return service.revoke_token(session=get_session(), token_id=token_id, now=utcnow())
