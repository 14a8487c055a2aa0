"""Child and measurement payloads."""


import marshmallow as ma
from flask import g
from marshmallow import validate

from api.auth.policy import CaseView
from api.cases.schemas import (
    NEIGHBOURHOOD,
    VILLAGE_CODE,
    ChildViewSchema,
    LinksInAreas,
    valid_nik,
)
from api.fields import Day, StrictSchema, Text, UtcTimestamp, code, not_in_future
from api.vocabularies.codes import (
    CaseStatus,
    Category,
    HazCategory,
    Position,
    Sex,
    WazCategory,
    WhzCategory,
)


class Measure(ma.fields.Float):
    """A JSON number (no strings), finite."""

    def __init__(self, **kwargs):
        super().__init__(allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class MeasuredChildSchema(StrictSchema):
    """A child measured for the first time."""

    name = Text(required=True, validate=validate.Length(min=1, max=120))
    sex = code(Sex, required=True)
    birth_date = Day(required=True, validate=not_in_future)
    nik = Text(allow_none=True, validate=valid_nik)
    village_code = Text(required=True, validate=VILLAGE_CODE)
    rt = Text(allow_none=True, validate=NEIGHBOURHOOD)
    rw = Text(allow_none=True, validate=NEIGHBOURHOOD)


class MeasurementInputSchema(StrictSchema):
    """A weighing and measuring at the posyandu: name a known child_id or describe a child."""

    child_id = ma.fields.UUID()
    child = ma.fields.Nested(MeasuredChildSchema)
    measured_on = Day(required=True, validate=not_in_future)
    weight_kg = Measure(required=True, validate=validate.Range(min=0.5, max=40))
    height_cm = Measure(required=True, validate=validate.Range(min=35, max=130))
    position = code(Position, required=True,
                     metadata={"description": "lying: length; standing: height"})
    muac_cm = Measure(allow_none=True, validate=validate.Range(min=5, max=30),
                      metadata={"description": "Mid-upper arm circumference (LILA)"})

    @ma.validates_schema
    def one_child(self, data, **kwargs):
        if ("child" in data) == ("child_id" in data):
            raise ma.ValidationError("Describe the child, or give child_id (not both).",
                                     "child")


class MeasurementSchema(ma.Schema):
    """A stored measurement with its WHO z-scores (2 decimals) and Permenkes categories."""

    id = ma.fields.UUID()
    child_id = ma.fields.UUID()
    measured_on = ma.fields.Date()
    age_days = ma.fields.Integer()
    weight_kg = ma.fields.Float()
    height_cm = ma.fields.Float()
    position = code(Position)
    muac_cm = ma.fields.Float(allow_none=True)
    haz = ma.fields.Float(metadata={"description": "Length/height-for-age z"})
    waz = ma.fields.Float(metadata={"description": "Weight-for-age z"})
    whz = ma.fields.Float(allow_none=True, metadata={
        "description": "Weight-for-length/height z (null outside 45-110 / 65-120 cm)"})
    haz_category = code(HazCategory)
    waz_category = code(WazCategory)
    whz_category = code(WhzCategory, allow_none=True)
    case_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "The stunting-risk case this measurement opened or found open"})
    created_at = UtcTimestamp()


class ChildCaseLinkSchema(ma.Schema):
    id = ma.fields.UUID()
    reference = ma.fields.String()
    category = code(Category)
    status = code(CaseStatus)


class ChildSchema(ChildViewSchema):
    """A child. Caseworkers and supervisors also get the NIK, school, disability and the
    child's cases; posyandu cadres what weighing needs."""

    village_code = ma.fields.String()
    rw = ma.fields.String(allow_none=True)
    rt = ma.fields.String(allow_none=True)
    latest_measurement = ma.fields.Nested(MeasurementSchema, allow_none=True)
    cases = LinksInAreas(ma.fields.Nested(ChildCaseLinkSchema))

    def dump(self, obj, *, many=None):
        dumped = super().dump(obj, many=many)
        if g.get("case_view") is not CaseView.FULL:
            for name in STAFF_ONLY:  # cadres weigh children; the rest is the office's
                dumped.pop(name, None)
        return dumped


STAFF_ONLY = ("cases", "nik", "school", "disability")
