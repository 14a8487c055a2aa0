"""KLA statistics payloads."""

import marshmallow as ma
from marshmallow import validate

from api.fields import Day, Text, digits


class KlaQuerySchema(ma.Schema):
    area = Text(required=True, validate=digits(2, 10, "A Kemendagri code of 2-10 digits."),
                metadata={"description": "City, kecamatan or kelurahan code, e.g. 6471"})
    from_ = Day(data_key="from", metadata={"description": "First day (default: 1 January)"})
    to = Day(metadata={"description": "Last day (default: today)"})
    format = Text(validate=validate.OneOf(["json", "csv"]),
                  metadata={"description": "csv: the kelurahan rows as CSV (or Accept: text/csv)"})
    lang = Text(load_default="en", validate=validate.OneOf(["en", "id"]),
                metadata={"description": "CSV column labels: en or id (Bahasa Indonesia)"})

    @ma.validates_schema
    def ordered(self, data, **kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ma.ValidationError("Must not be before from.", "to")


def withheld_count() -> ma.fields.Integer:
    """A count that analysts may get as null (stats/disclosure.py)."""
    return ma.fields.Integer(allow_none=True, metadata={
        "description": "Analysts: null when withheld (1 or 2, or a count that would reveal one)"})


class KelurahanRowSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    violence_cases = ma.fields.Integer(allow_none=True)
    stunting_risk_cases = ma.fields.Integer(allow_none=True)
    open_cases = ma.fields.Integer(allow_none=True)
    days_since_last_violence_case = ma.fields.Integer(allow_none=True)
    overdue_referrals = ma.fields.Integer(allow_none=True)
    triaged_cases = ma.fields.Integer(allow_none=True, metadata={
        "description": "Cases of the period triaged: the median to triage is over these"})
    median_days_to_triage = ma.fields.Float(allow_none=True)
    accepted_cases = ma.fields.Integer(allow_none=True, metadata={
        "description": "Cases of the period with an accepted referral"})
    median_days_to_first_acceptance = ma.fields.Float(allow_none=True)
    suppressed = ma.fields.Boolean(metadata={
        "description": "Analysts: counts of 1-2 (and medians of fewer than 3 cases) are null"})


class KlaTotalsSchema(ma.Schema):
    violence_cases = withheld_count()
    violence_by_type = ma.fields.Dict(keys=ma.fields.String(), values=withheld_count())
    stunting_risk_cases = withheld_count()
    open_cases = withheld_count()
    closed_by_reason = ma.fields.Dict(keys=ma.fields.String(), values=withheld_count())
    children_measured = withheld_count()
    stunted_pct = ma.fields.Float(allow_none=True)
    wasted_pct = ma.fields.Float(allow_none=True)
    underweight_pct = ma.fields.Float(allow_none=True)


class KlaMonthSchema(ma.Schema):
    month = ma.fields.String()
    violence_cases = withheld_count()
    stunting_risk_cases = withheld_count()


class KlaSlaSchema(ma.Schema):
    triage_on_time_pct = ma.fields.Float(allow_none=True)
    triage_on_time = withheld_count()
    triage_late = withheld_count()
    acceptance_on_time_pct = ma.fields.Float(allow_none=True)
    acceptance_on_time = withheld_count()
    acceptance_late = withheld_count()


class ReferralOutcomeSchema(ma.Schema):
    agency = ma.fields.String()
    referrals = withheld_count()
    pending = withheld_count()
    accepted = withheld_count()
    declined = withheld_count()
    in_progress = withheld_count()
    completed = withheld_count()
    cancelled = withheld_count()
    completed_pct = ma.fields.Float(allow_none=True, metadata={
        "description": "null for analysts over fewer than 3 referrals"})


class KlaStatisticsSchema(ma.Schema):
    """Where an area stands on the way to zero cases of violence against children."""

    area = ma.fields.Dict()
    period = ma.fields.Dict()
    totals = ma.fields.Nested(KlaTotalsSchema)
    kelurahan_count = ma.fields.Integer()
    zero_violence_kelurahan = ma.fields.Integer(metadata={
        "description": "Kelurahan without a new violence case in the period"})
    kelurahan = ma.fields.List(ma.fields.Nested(KelurahanRowSchema))
    monthly = ma.fields.List(ma.fields.Nested(KlaMonthSchema))
    sla = ma.fields.Nested(KlaSlaSchema)
    referral_outcomes = ma.fields.List(ma.fields.Nested(ReferralOutcomeSchema))
