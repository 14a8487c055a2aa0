"""Referral, routing-plan and routing-rule payloads."""

import marshmallow as ma
from flask import g
from marshmallow import validate

from api.agencies.schemas import AGENCY_CODE
from api.audit.service import note_shown
from api.auth.policy import CaseView
from api.cases.schemas import HouseholdViewSchema
from api.children.schemas import MeasurementSchema
from api.fields import (
    UNIQUE_ITEMS,
    Count,
    Derived,
    Flag,
    Pattern,
    StrictSchema,
    Text,
    UtcTimestamp,
    code,
    digits,
    unique,
)
from api.vocabularies.codes import (
    Category,
    EconomicStressor,
    ReferralStatus,
    RiskLevel,
    Service,
    Sex,
    ViolenceType,
)


def _code(codes, **kwargs):
    """A code kept as a plain string (routing conditions are stored as JSON)."""
    return ma.fields.String(validate=validate.OneOf([c.value for c in codes]), **kwargs)


def _codes(codes):
    return ma.fields.List(_code(codes), validate=[validate.Length(min=1), unique],
                          metadata=UNIQUE_ITEMS)


# ---------- the agency view of a case (DESIGN §4) ----------

class AgencyChildViewSchema(ma.Schema):
    name = ma.fields.String()
    sex = code(Sex)
    birth_date = ma.fields.Date()
    birth_date_estimated = ma.fields.Boolean()
    age_months = ma.fields.Integer()


class AgencyCaseViewSchema(ma.Schema):
    """What an agency learns of a case referred to it: never the reporter, the narrative
    or the perpetrator."""

    reference = ma.fields.String()
    category = code(Category)
    risk_level = code(RiskLevel, allow_none=True)
    emergency = ma.fields.Boolean()
    child = ma.fields.Nested(AgencyChildViewSchema)
    village_code = ma.fields.String()
    rw = ma.fields.String(allow_none=True)
    rt = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    household = ma.fields.Nested(HouseholdViewSchema, allow_none=True)
    latest_measurement = Derived(
        MeasurementSchema,
        lambda case: (case.child.latest_measurement
                      if case.category is Category.STUNTING_RISK else None),
        allow_none=True,
        metadata={"description": "For stunting-risk cases: the child's latest measurement"})


# ---------- referrals ----------

class ReferralSchema(ma.Schema):
    """A referral. Agency roles also get `case`, the agency view of the referred case."""

    id = ma.fields.UUID()
    case_id = ma.fields.UUID()
    case_reference = ma.fields.String(attribute="case.reference", dump_only=True)
    agency = ma.fields.String(attribute="agency_code")
    service = code(Service)
    status = code(ReferralStatus)
    rule = ma.fields.String(attribute="rule_id", allow_none=True,
                            metadata={"description": "The routing rule that proposed it"})
    note = ma.fields.String(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    outcome = ma.fields.String(allow_none=True)
    external_reference = ma.fields.String(allow_none=True)
    due_at = UtcTimestamp(metadata={"description": "Acceptance due by"})
    overdue = ma.fields.Boolean()
    created_at = UtcTimestamp()
    updated_at = UtcTimestamp()
    case = ma.fields.Nested(AgencyCaseViewSchema)

    def dump(self, obj, *, many=None):
        dumped = super().dump(obj, many=many)
        referrals = obj if isinstance(dumped, list) else [obj]
        agency = g.get("case_view") is CaseView.AGENCY
        # a list read is a read of each referral, its case and (agencies) its child
        note_shown(referral=[r.id for r in referrals], case=[r.case_id for r in referrals],
                   child=[r.case.child_id for r in referrals] if agency else [])
        if not agency:
            # the case side reads the case itself, in its own view
            for item in dumped if isinstance(dumped, list) else [dumped]:
                item.pop("case", None)
        return dumped


class ReferralQuerySchema(ma.Schema):
    case_id = ma.fields.UUID()
    agency = Text(validate=AGENCY_CODE)
    status = code(ReferralStatus)
    overdue = ma.fields.Boolean(metadata={"description": "Pending past its acceptance due time"})
    updated_after = ma.fields.AwareDateTime(metadata={"description": "ISO 8601 with offset"})
    cursor = Text(validate=Pattern(r"^[A-Za-z0-9_=-]{1,400}$", error="Not a cursor."),
                  metadata={"description": "next_cursor of your previous page (opaque, yours "
                                           "only); none to start from the beginning"})
    page_size = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class ReferralMoveSchema(StrictSchema):
    to = code(ReferralStatus, required=True)
    reason = Text(validate=validate.Length(max=2000),
                              metadata={"description": "Required to decline or cancel"})
    outcome = Text(validate=validate.Length(max=4000),
                               metadata={"description": "Required to complete"})
    note = Text(validate=validate.Length(max=4000))
    external_reference = Text(validate=validate.Length(max=120),
                                          metadata={"description": "The agency's own id"})


class ManualReferralSchema(StrictSchema):
    agency = Text(required=True, validate=AGENCY_CODE)
    service = code(Service, required=True)
    note = Text(validate=validate.Length(max=4000))
    due_in_hours = Count(load_default=72, validate=validate.Range(min=1, max=720))


# ---------- routing plan and rules ----------

class PlanItemSchema(ma.Schema):
    agency = ma.fields.String(attribute="proposal.agency")
    service = ma.fields.String(attribute="proposal.service")
    due_in_hours = ma.fields.Integer(attribute="proposal.due_in_hours")
    rule = ma.fields.String(attribute="proposal.rule_id")
    rule_description = ma.fields.String(attribute="proposal.rule_description")
    open_referral_id = ma.fields.Function(
        lambda item: str(item.existing.id) if item.existing else None,
        metadata={"description": "Set when an open referral exists: routing skips it",
                  "type": "string", "format": "uuid", "nullable": True})


class AgeRangeSchema(StrictSchema):
    min = Count(load_default=0, validate=validate.Range(min=0, max=17))
    max = Count(load_default=17, validate=validate.Range(min=0, max=17))

    @ma.validates_schema
    def ordered(self, data, **kwargs):
        if data["min"] > data["max"]:
            raise ma.ValidationError("min must not exceed max.", "min")


class ConditionsMixin:
    violence_types_any = _codes(ViolenceType)
    risk_levels = _codes(RiskLevel)
    child_age_years = ma.fields.Nested(AgeRangeSchema)
    economic_stressors_any = _codes(EconomicStressor)
    has_economic_stressor = Flag()
    welfare_decile_max = Count(validate=validate.Range(min=1, max=10))


class AlternativeConditionsSchema(ConditionsMixin, StrictSchema):
    """One alternative of `any_of`."""

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("An alternative needs at least one condition.")


class RuleConditionsSchema(ConditionsMixin, StrictSchema):
    category = _code(Category, required=True)
    any_of = ma.fields.List(ma.fields.Nested(AlternativeConditionsSchema),
                            validate=validate.Length(min=1))


class RoutingRuleSchema(StrictSchema):
    id = Text(required=True, validate=Pattern(
        r"^[a-z0-9][a-z0-9_-]{1,63}$", error="Lower-case letters, digits, - and _."))
    description = Text(required=True, validate=validate.Length(min=1, max=255))
    when = ma.fields.Nested(RuleConditionsSchema, required=True)
    agency = Text(required=True, validate=AGENCY_CODE, attribute="agency_code")
    service = code(Service, required=True)
    due_in_hours = Count(required=True, validate=validate.Range(min=1, max=720))


class RoutingRulesQuerySchema(ma.Schema):
    city = Text(validate=digits(4, 4, "A Kemendagri city code of 4 digits."),
                metadata={"description": "The city (kota or kabupaten) whose rules, e.g. 6471; "
                                         "may be left out when your areas lie in one city"})


class RoutingRuleSetSchema(RoutingRuleSchema):
    """The whole rule set, in the order rules apply; at least one rule."""

    def __init__(self, **kwargs):
        super().__init__(many=True, **kwargs)

    @ma.validates_schema(pass_collection=True)
    def not_empty(self, data, many, **kwargs):
        if many and not data:
            raise ma.ValidationError("A rule set needs at least one rule: every case must "
                                     "reach someone.")


class NoBodySchema(StrictSchema):
    """This action takes no body."""
