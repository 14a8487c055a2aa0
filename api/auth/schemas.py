"""Payloads about the caller."""

import marshmallow as ma

from api.vocabularies.codes import Role


class MeSchema(ma.Schema):
    id = ma.fields.UUID(attribute="user_id")
    username = ma.fields.String()
    role = ma.fields.Enum(Role, by_value=True)
    area_codes = ma.fields.List(ma.fields.String())
    agency = ma.fields.String(attribute="agency_code", allow_none=True)
