"""KLA statistics payloads."""

import marshmallow as ma
from marshmallow import validate

from api.fields import Day, Text, digits


class KlaQuerySchema(ma.Schema):
    area = Text(required=True, validate=digits(2, 10, "A Kemendagri code of 2-10 digits."),
                metadata={"description": "City, kecamatan or kelurahan code, e.g. 6471"})
    from_ = Day(data_key="from", metadata={"description": (
        "First day (default: 1 January). Analysts: the first day of a month (default: January "
        "of the year of to)")})
    to = Day(metadata={"description": (
        "Last day (default: today). Analysts: the last day of a month that has ended in the "
        "area's calendar (default: the last such month)")})
    format = Text(validate=validate.OneOf(["json", "csv"]), metadata={
        "description": "csv: the kelurahan (analysts: kecamatan) rows as CSV (or Accept: "
                       "text/csv)"})
    lang = Text(load_default="en", validate=validate.OneOf(["en", "id"]),
                metadata={"description": "CSV column labels: en or id (Bahasa Indonesia)"})

    @ma.validates_schema
    def ordered(self, data, **kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ma.ValidationError("Must not be before from.", "to")


class KlaCsvQuerySchema(KlaQuerySchema):
    """The query of GET /stats/kla.csv: the same, the format being given by the path."""

    class Meta:
        exclude = ("format",)


def published_count() -> ma.fields.Integer:
    """A count that analysts get rounded (stats/disclosure.py)."""
    return ma.fields.Integer(metadata={"description": (
        "Analysts: a sum of published counts, each a multiple of 5 (0-2 published as 0)")})


def published_share() -> ma.fields.Float:
    """A share in percent that analysts get from published counts (stats/disclosure.py)."""
    return ma.fields.Float(allow_none=True, metadata={"description": (
        "Percent; null without a base. Analysts: a ratio of published counts, null when "
        "the published base is under 25")})


class KelurahanRowSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    violence_cases = ma.fields.Integer()
    stunting_risk_cases = ma.fields.Integer()
    open_cases = ma.fields.Integer()
    days_since_last_violence_case = ma.fields.Integer(allow_none=True)
    overdue_referrals = ma.fields.Integer()
    triaged_cases = ma.fields.Integer(metadata={
        "description": "Cases of the period triaged: the median to triage is over these"})
    median_days_to_triage = ma.fields.Float(allow_none=True)
    accepted_cases = ma.fields.Integer(metadata={
        "description": "Cases of the period with an accepted referral"})
    median_days_to_first_acceptance = ma.fields.Float(allow_none=True)
    suppressed = ma.fields.Boolean(metadata={
        "description": "Always false: the roles that get kelurahan rows get exact counts"})


class KecamatanRowSchema(ma.Schema):
    """One kecamatan of an analyst's answer: sums of its published monthly counts."""

    code = ma.fields.String()
    name = ma.fields.String()
    violence_cases = published_count()
    violence_by_type = ma.fields.Dict(keys=ma.fields.String(), values=published_count())
    stunting_risk_cases = published_count()
    children_measured = published_count()
    stunted_pct = published_share()
    wasted_pct = published_share()
    underweight_pct = published_share()


class KlaDisclosureSchema(ma.Schema):
    """How an analyst's figures were protected."""

    rounding_base = ma.fields.Integer(metadata={
        "description": "Every published count is a multiple of this"})
    methodology = ma.fields.String(metadata={
        "description": "The document stating the rules"})


class KlaTotalsSchema(ma.Schema):
    violence_cases = published_count()
    violence_by_type = ma.fields.Dict(keys=ma.fields.String(), values=published_count())
    stunting_risk_cases = published_count()
    open_cases = ma.fields.Integer(metadata={"description": "Not given to analysts"})
    closed_by_reason = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                                      metadata={"description": "Not given to analysts"})
    children_measured = published_count()
    stunted_pct = published_share()
    wasted_pct = published_share()
    underweight_pct = published_share()


class KlaMonthSchema(ma.Schema):
    month = ma.fields.String()
    violence_cases = published_count()
    stunting_risk_cases = published_count()


class KlaSlaSchema(ma.Schema):
    triage_on_time_pct = published_share()
    triage_on_time = published_count()
    triage_late = published_count()
    acceptance_on_time_pct = ma.fields.Float(allow_none=True, metadata={
        "description": "Not given to analysts"})
    acceptance_on_time = ma.fields.Integer(metadata={"description": "Not given to analysts"})
    acceptance_late = ma.fields.Integer(metadata={"description": "Not given to analysts"})


class ReferralOutcomeSchema(ma.Schema):
    agency = ma.fields.String()
    referrals = ma.fields.Integer()
    pending = ma.fields.Integer()
    accepted = ma.fields.Integer()
    declined = ma.fields.Integer()
    in_progress = ma.fields.Integer()
    completed = ma.fields.Integer()
    cancelled = ma.fields.Integer()
    completed_pct = ma.fields.Float(allow_none=True)


class KlaAreaSchema(ma.Schema):
    """The area the figures are of."""

    code = ma.fields.String(metadata={"description": "Kemendagri code"})
    name = ma.fields.String()
    level = ma.fields.String(metadata={"description": "province, city, district or village"})


class KlaPeriodSchema(ma.Schema):
    """The days the figures cover, both included, in the area's calendar."""

    from_ = ma.fields.String(data_key="from", attribute="from", metadata={"format": "date"})
    to = ma.fields.String(metadata={"format": "date"})


class KlaStatisticsSchema(ma.Schema):
    """Where an area stands on the way to zero cases of violence against children. Analysts
    get `disclosure`, `kecamatan_count`, `zero_violence_kecamatan` and `kecamatan` rows in
    place of the kelurahan figures, and no referral outcomes (docs/statistics-disclosure.md)."""

    area = ma.fields.Nested(KlaAreaSchema)
    period = ma.fields.Nested(KlaPeriodSchema)
    disclosure = ma.fields.Nested(KlaDisclosureSchema, metadata={"description": "Analysts only"})
    totals = ma.fields.Nested(KlaTotalsSchema)
    kelurahan_count = ma.fields.Integer(metadata={"description": "Not given to analysts"})
    zero_violence_kelurahan = ma.fields.Integer(metadata={
        "description": "Kelurahan without a new violence case in the period; not given to "
                       "analysts"})
    kelurahan = ma.fields.List(ma.fields.Nested(KelurahanRowSchema), metadata={
        "description": "Not given to analysts"})
    kecamatan_count = ma.fields.Integer(metadata={"description": "Analysts only"})
    zero_violence_kecamatan = ma.fields.Integer(metadata={
        "description": "Analysts only: kecamatan whose published violence count is 0 (fewer "
                       "than 3 new cases in every month of the period)"})
    kecamatan = ma.fields.List(ma.fields.Nested(KecamatanRowSchema), metadata={
        "description": "Analysts only"})
    monthly = ma.fields.List(ma.fields.Nested(KlaMonthSchema))
    sla = ma.fields.Nested(KlaSlaSchema)
    referral_outcomes = ma.fields.List(ma.fields.Nested(ReferralOutcomeSchema), metadata={
        "description": "Not given to analysts"})
