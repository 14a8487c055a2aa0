"""Case payloads: the report, the correction, the list filters, and one schema per view."""

import marshmallow as ma
from flask import g
from marshmallow import validate
from sqlalchemy.orm import object_session

from api.audit.service import note_shown
from api.auth.policy import CaseView, in_areas
from api.cases import duplicates
from api.cases.models import CaseOrder
from api.children.identity import kk_problems, nik_problems
from api.fields import (
    UNIQUE_ITEMS,
    Count,
    Day,
    Derived,
    Flag,
    Pattern,
    StrictSchema,
    Text,
    UtcTimestamp,
    code,
    digits,
    not_after_today_anywhere,
    unique,
)
from api.regions import calendar
from api.regions.calendar import ADULT_AGE_MONTHS
from api.vocabularies.codes import (
    CaseStatus,
    CaseTag,
    Category,
    ClosureReason,
    EconomicStressor,
    IncidentPlace,
    PerpetratorRelation,
    RiskLevel,
    Role,
    Sex,
    SocialProgramme,
    Source,
    ViolenceType,
)

VILLAGE_CODE = digits(10, 10, "A kelurahan code has 10 digits.")
NEIGHBOURHOOD = Pattern(r"^(?!0+$)[0-9]{1,3}$", error="Give the RT/RW number (1-999).")


def _enum_list(codes, **kwargs):
    return ma.fields.List(code(codes), validate=unique, metadata=UNIQUE_ITEMS, **kwargs)


def valid_nik(value: str):
    if problems := nik_problems(value):
        raise ma.ValidationError(problems)


def _valid_kk(value: str):
    if problems := kk_problems(value):
        raise ma.ValidationError(problems)


# ---------- input ----------

# checked where the kelurahan is known (cases/service.py), in its calendar
_BIRTH_DATE = {"description": "Not in the future; the child is under 18 on the day of the "
                              "report (the kelurahan's calendar)"}

class ChildFieldsMixin:
    nik = Text(allow_none=True, validate=valid_nik,
                           metadata={"description": "Nomor Induk Kependudukan, 16 digits"})
    school = Text(allow_none=True, validate=validate.Length(max=120))
    disability = Text(allow_none=True, validate=validate.Length(max=120),
                                  metadata={"description": "Kind of disability, if any"})


class ChildReportSchema(ChildFieldsMixin, StrictSchema):
    """The child a report is about: birth_date, or age_months when the date is not known."""

    name = Text(required=True, validate=validate.Length(min=1, max=120))
    sex = code(Sex, required=True)
    birth_date = Day(metadata=_BIRTH_DATE)
    age_months = Count(
        validate=validate.Range(min=0, max=ADULT_AGE_MONTHS - 1,
                                error="Age in months must be 0-215 (under 18 years).")
    )

    @ma.validates_schema
    def one_age(self, data, **kwargs):
        if ("birth_date" in data) == ("age_months" in data):
            raise ma.ValidationError("Give either birth_date or age_months.", "birth_date")


class ChildCorrectionSchema(ChildFieldsMixin, StrictSchema):
    name = Text(validate=validate.Length(min=1, max=120))
    sex = code(Sex)
    birth_date = Day(metadata=_BIRTH_DATE, validate=not_after_today_anywhere)
    age_months = Count(
        validate=validate.Range(min=0, max=ADULT_AGE_MONTHS - 1,
                                error="Age in months must be 0-215 (under 18 years).")
    )

    @ma.validates_schema
    def one_age(self, data, **kwargs):
        if "birth_date" in data and "age_months" in data:
            raise ma.ValidationError("Give either birth_date or age_months.", "birth_date")


class HouseholdInputSchema(StrictSchema):
    kk_number = Text(allow_none=True, validate=_valid_kk,
                                 metadata={"description": "Family card (Kartu Keluarga) number"})
    head_name = Text(allow_none=True, validate=validate.Length(max=120))
    members_count = Count(allow_none=True, validate=validate.Range(min=1, max=50))
    welfare_decile = Count(
        allow_none=True, validate=validate.Range(min=1, max=10),
        metadata={"description": "DTSEN welfare decile 1-10; null when not registered"},
    )
    receives = _enum_list(SocialProgramme)
    economic_stressors = _enum_list(EconomicStressor)


class CaseFieldsMixin:
    violence_types = _enum_list(ViolenceType)
    tags = _enum_list(CaseTag)
    incident_date = Day(allow_none=True, metadata={
        "description": "Not in the future (the kelurahan's calendar)"})
    incident_place = code(IncidentPlace, allow_none=True)
    description = Text(allow_none=True, validate=validate.Length(max=10_000))
    perpetrator_relation = code(PerpetratorRelation, allow_none=True)
    rw = Text(allow_none=True, validate=NEIGHBOURHOOD)
    rt = Text(allow_none=True, validate=NEIGHBOURHOOD)
    address = Text(allow_none=True, validate=validate.Length(max=255))


class CaseReportSchema(CaseFieldsMixin, StrictSchema):
    """A new report. Reporters give the child; caseworkers may name a known child_id."""

    category = code(Category, required=True)
    village_code = Text(required=True, validate=VILLAGE_CODE)
    emergency = Flag(load_default=False,
                                  metadata={"description": "The child is in immediate danger"})
    source = code(Source, metadata={"description": "Caseworkers only: how the report came in"})
    child = ma.fields.Nested(ChildReportSchema)
    child_id = ma.fields.UUID(metadata={"description": "A known child of your areas "
                                                       "(e.g. from a posyandu measurement)"})
    household = ma.fields.Nested(HouseholdInputSchema)

    @ma.validates_schema(skip_on_field_errors=False)
    def dates_in_the_kelurahan_calendar(self, data, **kwargs):
        """Checked here too, so that every bad field is named at once (the service checks
        them again on the stored case)."""
        child = data.get("child") or {}
        problems = calendar.report_date_problems(
            data.get("village_code"), birth_date=child.get("birth_date"),
            incident_date=data.get("incident_date"))
        if problems:
            raise ma.ValidationError(
                {**({"child": {"birth_date": problems["birth_date"]}}
                    if "birth_date" in problems else {}),
                 **({"incident_date": problems["incident_date"]}
                    if "incident_date" in problems else {})})

    @ma.validates_schema
    def consistent(self, data, **kwargs):
        errors = {}
        if ("child" in data) == ("child_id" in data):
            errors["child"] = ["Describe the child, or give child_id (not both)."]
        if data.get("category") is Category.VIOLENCE and not data.get("violence_types"):
            errors["violence_types"] = ["Name at least one form of violence."]
        if data.get("category") is Category.STUNTING_RISK and data.get("violence_types"):
            errors["violence_types"] = ["A stunting-risk report has no forms of violence."]
        if errors:
            raise ma.ValidationError(errors)


class CaseCorrectionSchema(CaseFieldsMixin, StrictSchema):
    """Corrections to a report's facts (status, risk and closure have their own actions)."""

    incident_date = Day(allow_none=True, validate=not_after_today_anywhere, metadata={
        "description": "Not in the future (the kelurahan's calendar)"})
    village_code = Text(validate=VILLAGE_CODE)
    emergency = Flag()
    child = ma.fields.Nested(ChildCorrectionSchema)
    household = ma.fields.Nested(HouseholdInputSchema)



class CaseQuerySchema(ma.Schema):
    status = code(CaseStatus)
    category = code(Category)
    risk_level = code(RiskLevel)
    village_code = Text(
        validate=digits(2, 10, "A region code prefix: 2-10 digits."),
        metadata={"description": "Region code prefix: 6471 = all of Kota Balikpapan"},
    )
    assigned_to = ma.fields.UUID()
    overdue = ma.fields.Boolean(metadata={
        "description": "Past its triage deadline, or triaged and past its response deadline"})
    needs_attention = ma.fields.Boolean(metadata={
        "description": "A referral was declined or not accepted in time"})
    reported_from = Day(metadata={"description": "Reported on or after this day"})
    reported_to = Day(metadata={"description": "Reported on or before this day"})
    q = Text(validate=validate.Length(min=2, max=100), metadata={
        "description": "Reference, or part of the child's name (reporters: the reference; "
                       "they may filter on status, category and dates only)"})
    sort = code(CaseOrder, metadata={
        "description": "`newest` (the default): newest first. `queue` (staff): open cases "
                       "only, emergencies first, then the running deadline (triage, then "
                       "response), earliest first, cases without one last"})

    @ma.validates_schema
    def ordered_dates(self, data, **kwargs):
        low, high = data.get("reported_from"), data.get("reported_to")
        if low and high and low > high:
            raise ma.ValidationError("Must not be before reported_from.", "reported_to")


# ---------- output ----------

class CaseReporterViewSchema(ma.Schema):
    """What a reporter sees of a case they reported: enough to follow up, nothing more."""

    id = ma.fields.UUID()
    reference = ma.fields.String()
    category = code(Category)
    status = code(CaseStatus)
    created_at = UtcTimestamp()
    updated_at = UtcTimestamp()


class ChildViewSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    nik = ma.fields.String(allow_none=True)
    sex = code(Sex)
    birth_date = ma.fields.Date()
    birth_date_estimated = ma.fields.Boolean()
    age_months = ma.fields.Integer(metadata={"description": "Completed months of age today"})
    school = ma.fields.String(allow_none=True)
    disability = ma.fields.String(allow_none=True)


class HouseholdViewSchema(ma.Schema):
    id = ma.fields.UUID()
    kk_number = ma.fields.String(allow_none=True)
    head_name = ma.fields.String(allow_none=True)
    members_count = ma.fields.Integer(allow_none=True)
    welfare_decile = ma.fields.Integer(allow_none=True)
    receives = ma.fields.List(ma.fields.String())
    economic_stressors = ma.fields.List(ma.fields.String())


class LinksInAreas(ma.fields.List):
    """Links to other cases, only to those in the caller's areas: a reference from another
    area would tell of a case the caller may not open."""

    def _serialize(self, value, attr, obj, **kwargs):
        grant = g.get("grant")
        shown = [link for link in value or ()
                 if grant is not None and in_areas(grant.principal, _village_of(link))]
        return super()._serialize(shown, attr, obj, **kwargs)


def _village_of(link) -> str:
    return link["village_code"] if isinstance(link, dict) else link.village_code


class PossibleDuplicateSchema(ma.Schema):
    id = ma.fields.UUID()
    reference = ma.fields.String()
    reason = ma.fields.String(metadata={
        "description": "same_child (same child record or NIK) or same_child_and_village "
                       "(same name, birth date and kelurahan)"
    })


class DuplicateDecisionSchema(StrictSchema):
    other_case_id = ma.fields.UUID(required=True, metadata={
        "description": "One of the case's possible_duplicates"})
    decision = ma.fields.Enum(duplicates.DuplicateDecision, by_value=True, required=True,
                              metadata={"description": "confirmed: the newer of the two cases "
                                        "is closed as a duplicate; not_duplicate: the pair is "
                                        "shown no more"})
    note = Text(validate=validate.Length(max=4000))


def with_shown_duplicates(cases) -> None:
    """Load what CASES (full view) show of their duplicate clusters to the caller, in two
    statements for a whole page (cases/duplicates.py)."""
    principal = g.get("principal")
    if principal is None and g.get("grant") is not None:
        principal = g.grant.principal
    cases = list(cases)
    if cases and principal is not None:
        duplicates.load_shown(session=object_session(cases[0]), principal=principal,
                              cases=cases)


def shown_duplicates(case) -> "duplicates.ShownDuplicates":
    """What CASE shows the caller of its duplicate cluster (loaded once per request)."""
    with_shown_duplicates([case])
    return getattr(case, "shown_duplicates", None) or duplicates.ShownDuplicates([], 0)


class ReporterRefSchema(ma.Schema):
    id = ma.fields.UUID()
    role = code(Role)


class CaseFullViewSchema(CaseReporterViewSchema):
    """Everything about a case: caseworkers and supervisors within their areas."""

    closure_reason = code(ClosureReason, allow_none=True)
    risk_level = code(RiskLevel, allow_none=True)
    emergency = ma.fields.Boolean()
    needs_attention = ma.fields.Boolean()
    violence_types = ma.fields.List(ma.fields.String())
    tags = ma.fields.List(ma.fields.String())
    incident_date = ma.fields.Date(allow_none=True)
    incident_place = code(IncidentPlace, allow_none=True)
    description = ma.fields.String(allow_none=True)
    perpetrator_relation = code(PerpetratorRelation, allow_none=True)
    village_code = ma.fields.String()
    rw = ma.fields.String(allow_none=True)
    rt = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    source = code(Source)
    reporter = ma.fields.Nested(ReporterRefSchema, attribute="reporter_summary")
    assigned_to = ma.fields.UUID(allow_none=True)
    child = ma.fields.Nested(ChildViewSchema)
    household = ma.fields.Nested(HouseholdViewSchema, allow_none=True)
    possible_duplicates = LinksInAreas(
        ma.fields.Nested(PossibleDuplicateSchema), attribute="shown_duplicates.links",
        metadata={"description": f"The most recent cases (at most {duplicates.SHOWN}) that "
                                 "may be about the same child, in the caller's areas; "
                                 "possible_duplicate_count tells how many there are"})
    possible_duplicate_count = ma.fields.Integer(attribute="shown_duplicates.count", metadata={
        "description": "How many possible duplicates the case has in the caller's areas"})
    triage_due_at = UtcTimestamp()
    overdue = ma.fields.Boolean(metadata={"description": "Not triaged by triage_due_at"})
    closed_at = UtcTimestamp(allow_none=True)


class CaseSchema(CaseFullViewSchema):
    """A case as the caller's role may see it.

    Caseworkers and supervisors get every field; reporters get only id, reference, category,
    status, created_at and updated_at. The view is chosen per request by the access policy
    (`g.case_view`); without one, the narrowest view is used.
    """

    def dump(self, obj, *, many=None):
        cases = obj if (self.many if many is None else many) else [obj]
        full = g.get("case_view") is CaseView.FULL
        # a list read is a read of each case and (full view) of its child
        note_shown(case=[case.id for case in cases],
                   child=[case.child_id for case in cases] if full else [])
        if full:
            if self.only is None or {"possible_duplicates",
                                     "possible_duplicate_count"} & set(self.only):
                with_shown_duplicates(cases)
            return super().dump(obj, many=many)
        return CaseReporterViewSchema(many=self.many).dump(obj, many=many)


class CaseTriageSchema(StrictSchema):
    risk_level = code(RiskLevel, required=True)
    emergency = Flag()
    assigned_to = ma.fields.UUID(metadata={"description": "A caseworker of the case's area"})
    note = Text(validate=validate.Length(max=4000))


class CaseTransitionSchema(StrictSchema):
    to = code(CaseStatus, required=True)
    reason = Text(validate=validate.Length(max=2000), metadata={
        "description": "When closing: the closure_reason code; otherwise why"})
    note = Text(validate=validate.Length(max=4000))


class ActorSchema(ma.Schema):
    id = ma.fields.UUID(attribute="actor_id", allow_none=True)
    role = code(Role, attribute="actor_role", allow_none=True)


class EventDetails(ma.fields.Dict):
    """A timeline step's details; a step naming another case (a duplicate decision) names it
    only to readers whose areas cover that case, as LinksInAreas does."""

    OTHER_CASE = ("other_case_id", "other_reference")

    def _serialize(self, value, attr, obj, **kwargs):
        details = dict(value or {})
        village = details.pop("other_village_code", None)
        grant = g.get("grant")
        if village is not None and (grant is None or not in_areas(grant.principal, village)):
            for name in self.OTHER_CASE:
                details.pop(name, None)
        return super()._serialize(details, attr, obj, **kwargs)


class CaseEventSchema(ma.Schema):
    """One step of a case's timeline."""

    id = ma.fields.Integer(metadata={"description": "Increases with every step"})
    at = UtcTimestamp()
    actor = Derived(ActorSchema, lambda event: event)
    kind = ma.fields.String()
    from_status = code(CaseStatus, allow_none=True)
    to_status = code(CaseStatus, allow_none=True)
    referral_id = ma.fields.UUID(allow_none=True)
    details = EventDetails()
    note = ma.fields.String(allow_none=True)
