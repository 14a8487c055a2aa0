"""Agency payloads."""

import marshmallow as ma
from marshmallow import validate

from api.fields import UNIQUE_ITEMS, Pattern, Text, UtcTimestamp, unique
from api.vocabularies.codes import Service

AGENCY_CODE = Pattern(r"^[A-Z][A-Z0-9_]{1,31}$",
                              error="Upper-case letters, digits and _, 2-32 characters.")


class AgencySchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    services = ma.fields.List(ma.fields.String())
    created_at = UtcTimestamp()
    updated_at = UtcTimestamp()


class AgencyCreateSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    code = Text(required=True, validate=AGENCY_CODE)
    name = Text(required=True, validate=validate.Length(min=2, max=160))
    services = ma.fields.List(ma.fields.Enum(Service, by_value=True), required=True,
                              validate=[validate.Length(min=1), unique], metadata=UNIQUE_ITEMS)


class AgencyUpdateSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = Text(validate=validate.Length(min=2, max=160))
    services = ma.fields.List(ma.fields.Enum(Service, by_value=True),
                              validate=[validate.Length(min=1), unique], metadata=UNIQUE_ITEMS)
