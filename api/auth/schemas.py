"""Payloads about the caller."""

import marshmallow as ma
from marshmallow import validate

from api.fields import Pattern, Text, UtcTimestamp, digits
from api.vocabularies.codes import Role


class MeSchema(ma.Schema):
    id = ma.fields.UUID(attribute="user_id")
    username = ma.fields.String()
    role = ma.fields.Enum(Role, by_value=True)
    area_codes = ma.fields.List(ma.fields.String())
    agency = ma.fields.String(attribute="agency_code", allow_none=True)


class UserSchema(ma.Schema):
    """A user account (no password, no token)."""

    id = ma.fields.UUID()
    username = ma.fields.String()
    role = ma.fields.Enum(Role, by_value=True)
    area_codes = ma.fields.List(ma.fields.String())
    agency = ma.fields.String(attribute="agency_code", allow_none=True)
    active = ma.fields.Boolean()
    created_at = UtcTimestamp()


class UserCreateSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    username = Text(required=True, validate=Pattern(
        r"^[a-z0-9][a-z0-9._-]{2,63}$", error="3-64 lower-case letters, digits, . _ -"))
    role = ma.fields.Enum(Role, by_value=True, required=True)
    area_codes = ma.fields.List(Text(validate=digits(2, 10, "A Kemendagri code.")),
                                load_default=list)
    agency = Text(validate=validate.Length(max=32))


class TokenCreateSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    expires_at = ma.fields.AwareDateTime(metadata={"description": "Optional expiry"})


class IssuedTokenSchema(ma.Schema):
    """A new API token. `token` is shown only in this answer; it is stored hashed."""

    id = ma.fields.UUID()
    user_id = ma.fields.UUID()
    token = ma.fields.String()
    created_at = UtcTimestamp()
    expires_at = UtcTimestamp(allow_none=True)


class TokenSchema(ma.Schema):
    id = ma.fields.UUID()
    user_id = ma.fields.UUID()
    created_at = UtcTimestamp()
    expires_at = UtcTimestamp(allow_none=True)
    revoked_at = UtcTimestamp(allow_none=True)


class LoginSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    username = Text(required=True, validate=validate.Length(max=64))
    password = ma.fields.String(required=True, load_only=True,
                                validate=validate.Length(min=1, max=1024))
