"""Payloads about the caller."""

import marshmallow as ma
from flask import g
from marshmallow import validate

from api.auth.policy import sees_contacts
from api.fields import Pattern, Text, UtcTimestamp, digits
from api.vocabularies.codes import Role

LANGUAGES = ("id", "en")  # Bahasa Indonesia (the default), English


class ContactFields(ma.Schema):
    """Where and how a person's alerts reach them (DESIGN §8); stored encrypted."""

    email = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    language = ma.fields.String(metadata={"description": "Language of alerts: id or en"})


class MeSchema(ContactFields):
    id = ma.fields.UUID(attribute="user_id")
    username = ma.fields.String()
    role = ma.fields.Enum(Role, by_value=True)
    area_codes = ma.fields.List(ma.fields.String())
    agency = ma.fields.String(attribute="agency_code", allow_none=True)


class ContactInput(ma.Schema):
    """The contact fields as an admin sets them."""

    class Meta:
        unknown = ma.RAISE

    email = ma.fields.Email(allow_none=True, validate=validate.Length(max=100))
    # E.164 (+62…) as gateways want it
    phone = Text(allow_none=True, validate=Pattern(r"^\+[1-9][0-9]{7,14}$",
                                                   error="A number in E.164 form: +628…"))
    language = ma.fields.String(validate=validate.OneOf(LANGUAGES))


class UserSchema(ContactFields):
    """A user account (no password, no token)."""

    id = ma.fields.UUID()
    username = ma.fields.String()
    role = ma.fields.Enum(Role, by_value=True)
    area_codes = ma.fields.List(ma.fields.String())
    agency = ma.fields.String(attribute="agency_code", allow_none=True)
    active = ma.fields.Boolean()
    created_at = UtcTimestamp()

    @ma.post_dump
    def _contacts_for_admins(self, data, **kwargs):
        # the fields stay in the schema (admins read them); others get them as null
        grant = g.get("grant")
        if grant is None or not sees_contacts(grant.principal.role):
            data.update(dict.fromkeys(("email", "phone")))
        return data


class UserCreateSchema(ContactInput):
    class Meta:
        unknown = ma.RAISE

    username = Text(required=True, validate=Pattern(
        r"^[a-z0-9][a-z0-9._-]{2,63}$", error="3-64 lower-case letters, digits, . _ -"))
    role = ma.fields.Enum(Role, by_value=True, required=True)
    area_codes = ma.fields.List(Text(validate=digits(2, 10, "A Kemendagri code.")),
                                load_default=list)
    agency = Text(validate=validate.Length(max=32))


class UserUpdateSchema(ContactInput):
    """What an admin changes of a user: the contact fields (null removes one)."""

    class Meta:
        unknown = ma.RAISE


class AlertSchema(ma.Schema):
    """An alert addressed to the caller, in the caller's language."""

    id = ma.fields.UUID()
    kind = ma.fields.String(metadata={"description": "case.urgent, case.triage_overdue, "
                                      "referral.declined, referral.overdue, "
                                      "referral.escalated, endpoint.failing"})
    case_id = ma.fields.UUID(allow_none=True)
    reference = ma.fields.String(allow_none=True)
    deadline = UtcTimestamp(allow_none=True)
    subject = ma.fields.String()
    text = ma.fields.String()
    link = ma.fields.String()
    created_at = UtcTimestamp()


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
