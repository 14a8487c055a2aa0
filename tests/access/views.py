"""What each role may be shown: the field allow-lists of DESIGN.md §4, written out here, apart
from the serializers, so that a field a serializer starts to send fails a test.

A view maps each allowed field to None (any value) or to the view of its nested object(s).
"""

from api.vocabularies.codes import Role

View = dict[str, "View | None"]


def fields(*names: str, **nested: View) -> View:
    return {**dict.fromkeys(names), **nested}


def within(body, view: View, where: str = "body") -> None:
    """Fail when BODY (an object or a list of them) has a field VIEW does not allow."""
    if isinstance(body, list):
        for index, item in enumerate(body):
            within(item, view, f"{where}[{index}]")
        return
    assert isinstance(body, dict), f"{where} is not an object"
    extra = set(body) - set(view)
    assert not extra, f"{where} shows fields outside the view: {sorted(extra)}"
    for name, inner in view.items():
        if inner is not None and body.get(name) is not None:
            within(body[name], inner, f"{where}.{name}")


MEASUREMENT = fields(
    "id", "child_id", "measured_on", "age_days", "weight_kg", "height_cm", "position",
    "muac_cm", "haz", "waz", "whz", "haz_category", "waz_category", "whz_category", "flags",
    "case_id",
    "created_at",
)
HOUSEHOLD = fields("id", "kk_number", "head_name", "members_count", "welfare_decile",
                   "receives", "economic_stressors")

# a case as its reporter follows it: nothing learned after the report
CASE_REPORTER = fields("id", "reference", "category", "status", "created_at", "updated_at")
CASE_FULL = fields(
    *CASE_REPORTER, "closure_reason", "risk_level", "emergency", "needs_attention",
    "violence_types", "tags", "incident_date", "incident_place", "description",
    "perpetrator_relation", "village_code", "rw", "rt", "address", "source", "assigned_to",
    "triage_due_at", "overdue", "closed_at", "possible_duplicate_count",
    reporter=fields("id", "role"),
    child=fields("id", "name", "nik", "sex", "birth_date", "birth_date_estimated",
                 "age_months", "school", "disability"),
    household=HOUSEHOLD,
    possible_duplicates=fields("id", "reference", "reason"),
)
# what an agency needs to serve a child: never the reporter, the narrative, the perpetrator
CASE_FOR_AGENCY = fields(
    "reference", "category", "risk_level", "emergency", "village_code", "rw", "rt", "address",
    child=fields("name", "sex", "birth_date", "birth_date_estimated", "age_months"),
    household=HOUSEHOLD,
    latest_measurement=MEASUREMENT,
)
REFERRAL = fields(
    "id", "case_id", "case_reference", "agency", "service", "status", "rule", "note", "reason",
    "outcome", "external_reference", "due_at", "overdue", "created_at", "updated_at",
    case=CASE_FOR_AGENCY,
)
CASE_EVENT = fields("id", "at", "kind", "from_status", "to_status", "referral_id", "details",
                    "note", actor=fields("id", "role"))
PLAN_ITEM = fields("agency", "service", "due_in_hours", "rule", "rule_description",
                   "open_referral_id")

# a posyandu cadre sees what weighing needs; the office also the child's identity and cases
CHILD_FOR_WEIGHING = fields("id", "name", "sex", "birth_date", "birth_date_estimated",
                            "age_months", "village_code", "rw", "rt",
                            latest_measurement=MEASUREMENT)
CHILD_FULL = fields(*CHILD_FOR_WEIGHING, "nik", "school", "disability",
                    latest_measurement=MEASUREMENT,
                    cases=fields("id", "reference", "category", "status"),
                    possible_matches=fields("id", "name", "reason"))

# counts, shares and medians; no case, child or person
KLA_STATISTICS = fields(
    "kelurahan_count", "zero_violence_kelurahan",
    area=fields("code", "name", "level"),
    period=fields("from", "to"),
    totals=fields("violence_cases", "violence_by_type", "stunting_risk_cases", "open_cases",
                  "closed_by_reason", "children_measured", "stunted_pct", "wasted_pct",
                  "underweight_pct"),
    monthly=fields("month", "violence_cases", "stunting_risk_cases"),
    sla=fields("triage_on_time_pct", "triage_on_time", "triage_late",
               "acceptance_on_time_pct", "acceptance_on_time", "acceptance_late"),
    referral_outcomes=fields("agency", "referrals", "pending", "accepted", "declined",
                             "in_progress", "completed", "cancelled", "completed_pct"),
    kelurahan=fields("code", "name", "violence_cases", "stunting_risk_cases", "open_cases",
                     "overdue_referrals", "triaged_cases", "accepted_cases",
                     "median_days_to_triage", "median_days_to_first_acceptance",
                     "days_since_last_violence_case", "suppressed"),
)
# an analyst's answer: sums of published (rounded) cells of fixed monthly releases, in
# kecamatan rows; no kelurahan, no referral outcome, no median, no day since a last case
# (docs/statistics-disclosure.md)
_PUBLISHED = ("violence_cases", "violence_by_type", "stunting_risk_cases", "children_measured",
              "stunted_pct", "wasted_pct", "underweight_pct")
KLA_STATISTICS_FOR_ANALYST = fields(
    "kecamatan_count", "zero_violence_kecamatan",
    area=fields("code", "name", "level"),
    period=fields("from", "to"),
    disclosure=fields("rounding_base", "methodology"),
    totals=fields(*_PUBLISHED),
    kecamatan=fields("code", "name", *_PUBLISHED),
    monthly=fields("month", "violence_cases", "stunting_risk_cases"),
    sla=fields("triage_on_time_pct", "triage_on_time", "triage_late"),
)
AUDIT_EVENT = fields("id", "at", "actor_id", "actor_role", "agency", "action", "subject_type",
                     "subject_id", "outcome", "request_id", "client_ip", "details",
                     "seq", "prev_hash", "hash")

ME = fields("id", "username", "role", "area_codes", "agency", "email", "phone", "language")
USER = fields("id", "username", "role", "area_codes", "agency", "active", "created_at",
              "email", "phone", "language")
# an alert names the case by its reference: never the child, the address or the narrative
ALERT = fields("id", "kind", "case_id", "reference", "deadline", "subject", "text", "link",
               "created_at")
DELIVERY = fields("id", "webhook_id", "event_type", "referral_id", "status", "attempt_count",
                  "next_attempt_at", "delivered_at", "last_error", "created_at",
                  attempts=fields("at", "status_code", "error", "duration_ms"))
ISSUED_TOKEN = fields("id", "user_id", "token", "created_at", "expires_at")
TOKEN = fields("id", "user_id", "created_at", "expires_at", "revoked_at")
NO_CONTENT = fields()  # a 204: logging out answers nothing
# an agency's webhook secret is never readable again
AGENCY = fields("code", "name", "services", "created_at", "updated_at")
# a secret generated by the change is shown in that one answer
AGENCY_CHANGED = fields("code", "name", "services", "created_at", "updated_at", "webhook_url",
                        "webhook_failing_since", "webhook_secret")
REGION = fields("code", "name", "level", "parent_code")
ROUTING_RULE = fields("id", "description", "when", "agency", "service", "due_in_hours")
PROBLEM = fields("type", "title", "status", "detail", "errors", "instance")
HEALTH = fields("status", "database", "version")
LIVENESS = fields("status", "version")
READINESS = fields("status", "database", "schema", "revisions", "version")
VOCABULARIES = fields("vocabularies")


def case_view(role: Role) -> View:
    return CASE_FULL if role in (Role.CASEWORKER, Role.SUPERVISOR) else CASE_REPORTER


def child_view(role: Role) -> View:
    return CHILD_FULL if role in (Role.CASEWORKER, Role.SUPERVISOR) else CHILD_FOR_WEIGHING


def kla_view(role: Role) -> View:
    return KLA_STATISTICS_FOR_ANALYST if role is Role.ANALYST else KLA_STATISTICS
