"""Region payloads."""

import marshmallow as ma

from api.fields import Pattern
from api.vocabularies.codes import RegionLevel


class RegionSchema(ma.Schema):
    code = ma.fields.String(metadata={"description": "Kemendagri code without dots"})
    name = ma.fields.String()
    level = ma.fields.Enum(RegionLevel, by_value=True)
    parent_code = ma.fields.String(allow_none=True)


class RegionQuerySchema(ma.Schema):
    parent = ma.fields.String(
        validate=Pattern(r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{4})?)?)?$",
                                    error="Must be a Kemendagri code of 2, 4, 6 or 10 digits."),
        metadata={"description": "List the regions directly under this code; "
                                 "provinces when omitted"},
    )
