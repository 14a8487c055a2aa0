"""Child and measurement payloads."""


import marshmallow as ma
from flask import g
from marshmallow import validate

from api.audit.service import note_shown
from api.auth.policy import CaseView
from api.cases.schemas import (
    NEIGHBOURHOOD,
    VILLAGE_CODE,
    ChildViewSchema,
    LinksInAreas,
    valid_nik,
)
from api.children.growth import GrowthFlag
from api.fields import Day, StrictSchema, Text, UtcTimestamp, code, not_after_today_anywhere
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
    birth_date = Day(required=True, validate=not_after_today_anywhere)
    nik = Text(allow_none=True, validate=valid_nik)
    village_code = Text(required=True, validate=VILLAGE_CODE)
    rt = Text(allow_none=True, validate=NEIGHBOURHOOD)
    rw = Text(allow_none=True, validate=NEIGHBOURHOOD)


class MeasurementInputSchema(StrictSchema):
    """A weighing and measuring at the posyandu: name a known child_id or describe a child."""

    child_id = ma.fields.UUID()
    child = ma.fields.Nested(MeasuredChildSchema)
    measured_on = Day(required=True, validate=not_after_today_anywhere)
    # what can still be a weighing or measuring of a child of 0-60 months: WHO Anthro Survey
    # Analyser's cleaning per the WHO/UNICEF 2019 recommendations (0.5-40 kg, 35-140 cm);
    # a measurement within them is scored, and WHO's flags mark the implausible z-scores
    weight_kg = Measure(required=True, validate=validate.Range(
        min=0.5, max=40, error="A child of 0-60 months weighs between 0.5 and 40 kg."),
        metadata={"description": "Weight in kg (0.5-40)"})
    height_cm = Measure(required=True, validate=validate.Range(
        min=35, max=140, error="A child of 0-60 months measures between 35 and 140 cm."),
        metadata={"description": "Length (lying) or height (standing) in cm (35-140)"})
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

    def dump(self, obj, *, many=None):
        measurements = obj if (self.many if many is None else many) else [obj]
        # the weighed child, and the case a weighing opened, find it in their access logs
        note_shown(child=[m.child_id for m in measurements],
                   case=[m.case_id for m in measurements])
        return super().dump(obj, many=many)

    id = ma.fields.UUID()
    child_id = ma.fields.UUID()
    measured_on = ma.fields.Date()
    age_days = ma.fields.Integer()
    weight_kg = ma.fields.Float()
    height_cm = ma.fields.Float()
    position = code(Position)
    muac_cm = ma.fields.Float(allow_none=True)
    haz = ma.fields.Float(allow_none=True, metadata={
        "description": "Length/height-for-age z; null when flagged `haz_implausible`"})
    waz = ma.fields.Float(allow_none=True, metadata={
        "description": "Weight-for-age z; null when flagged `waz_implausible`"})
    whz = ma.fields.Float(allow_none=True, metadata={
        "description": "Weight-for-length/height z; null outside 45-110 cm (under 731 days) / "
                       "65-120 cm (from 731 days), or when flagged `whz_implausible`"})
    haz_category = code(HazCategory, allow_none=True, metadata={
        "description": "Permenkes 2/2020 TB/U category of haz; null when haz is null"})
    waz_category = code(WazCategory, allow_none=True, metadata={
        "description": "Permenkes 2/2020 BB/U category of waz; null when waz is null"})
    whz_category = code(WhzCategory, allow_none=True, metadata={
        "description": "Permenkes 2/2020 BB/PB or BB/TB category of whz; null when whz is null"})
    flags = ma.fields.List(
        ma.fields.String(validate=validate.OneOf([flag.value for flag in GrowthFlag])),
        metadata={"description": (
            "What WHO's anthro software (R package anthro 1.1.0) flags in this measurement: "
            "`standing_under_9_months`: a child under 9 months (age in days / 30.4375 < 9) "
            "was measured standing; the height is used as measured, without the 0.7 cm "
            "conversion. `haz_implausible`: |haz| > 6; `waz_implausible`: waz < -6 or > 5; "
            "`whz_implausible`: |whz| > 5. A flagged z-score is null with its category; the "
            "other z-scores stand and are used.")})
    case_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "The stunting-risk case this measurement opened or found open"})
    created_at = UtcTimestamp()


class ChildCaseLinkSchema(ma.Schema):
    id = ma.fields.UUID()
    reference = ma.fields.String()
    category = code(Category)
    status = code(CaseStatus)


class ChildMatchSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    reason = ma.fields.String(metadata={
        "description": "same_nik, or same_name_birth_date_and_village (names as compared "
                       "after spelling variants)"})


class ChildSchema(ChildViewSchema):
    """A child. Caseworkers and supervisors also get the NIK, school, disability and the
    child's cases; posyandu cadres what weighing needs."""

    village_code = ma.fields.String()
    rw = ma.fields.String(allow_none=True)
    rt = ma.fields.String(allow_none=True)
    latest_measurement = ma.fields.Nested(MeasurementSchema, allow_none=True)
    cases = LinksInAreas(ma.fields.Nested(ChildCaseLinkSchema))
    possible_matches = LinksInAreas(ma.fields.Nested(ChildMatchSchema), metadata={
        "description": "Other records that may be this child, for caseworkers to reconcile"})

    def dump(self, obj, *, many=None):
        if g.get("case_view") is CaseView.FULL or self.exclude:
            return super().dump(obj, many=many)
        # cadres weigh children; the rest is the office's, and is not even looked up
        return type(self)(exclude=STAFF_ONLY, many=self.many).dump(obj, many=many)


STAFF_ONLY = ("cases", "nik", "school", "disability", "possible_matches")
