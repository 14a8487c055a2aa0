"""The staff's pages: the queue of open cases (/app/kasus) and the case file
(/app/kasus/<id>), for caseworkers and supervisors.

Read through the same policy and services as GET /api/v1/cases and GET /api/v1/cases/{id}
(and audited as those reads); the actions on a case are in case_actions.py. Times are shown
in the local time of the case's kelurahan.
"""

import uuid
from datetime import datetime

from flask import Response, g, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from api import paging
from api.agencies.service import list_agencies
from api.audit.service import note_shown
from api.auth.models import User
from api.auth.policy import Grant, Operation, Principal
from api.cases import assignment, queue, timeline, versions
from api.cases import service as case_service
from api.cases.models import Case, CaseEvent, CaseOrder
from api.cases.schemas import CaseEventSchema, CaseQuerySchema, CaseSchema
from api.cases.workflow import ROUTABLE
from api.db import get_session, utcnow
from api.errors import DomainError, InvalidInput
from api.outbox.messages import local_time
from api.referrals import service as referral_service
from api.referrals.schemas import PlanItemSchema, ReferralSchema
from api.regions.models import Region
from api.regions.service import within_areas
from api.vocabularies.codes import (
    CaseStatus,
    Category,
    ClosureReason,
    RegionLevel,
    RiskLevel,
    Service,
)
from api.web import case_changes, case_forms, forms
from api.web.i18n import label
from api.web.session import allowed, grant_for
from api.web.site import blp

QUEUE_PAGE_SIZE = 50
TIMELINE_SHOWN = 200  # a case's steps are tens; of a runaway one the latest are shown
# the queue's GET form: its fields, as GET /cases names them
QUEUE_FILTERS = ("status", "category", "risk_level", "village_code", "overdue",
                 "needs_attention", "q")
# what a queue row shows of the full view: the rest (its duplicates) is left unread
QUEUE_FIELDS = ("id", "reference", "category", "status", "risk_level", "emergency", "overdue",
                "needs_attention", "village_code", "child.name")
OPEN_STATUSES = [status for status in CaseStatus if status is not CaseStatus.CLOSED]


# ---------- the queue ----------

@blp.route("/kasus")
def queue_page():
    """The caller's open cases: emergencies and overdue first, then by deadline."""
    shown, status = _queue()
    return render_template("staff/queue.html", **shown), status


@blp.route("/kasus/daftar")
def queue_rows():
    """The queue's rows and counts alone, for the page's script to refresh them in place."""
    shown, status = _queue()
    return render_template("staff/queue_rows.html", **shown), status


def _queue() -> tuple[dict, int]:
    # the queue is where cases are triaged: only those the policy lets triage open it
    grant_for(Operation.CASE_TRIAGE, acting=False)
    grant = grant_for(Operation.CASE_LIST)
    session, now = get_session(), utcnow()
    filters, errors = _queue_filters()
    rows, next_cursor = ([], None) if errors else _queue_slice(grant, filters, now)
    cases = CaseSchema(many=True, only=QUEUE_FIELDS).dump(rows)
    names = _village_names(session, {case["village_code"] for case in cases})
    shown = [_queue_row(case, row, names) for case, row in zip(cases, rows, strict=True)]
    asked = {name: request.args.get(name, "") for name in QUEUE_FILTERS}
    return {
        "cases": shown, "counts": queue.open_counts(session=session, grant=grant, now=now),
        "asked": asked, "errors": errors, "labels": case_forms.QUEUE_LABELS,
        "villages": _villages(grant.principal), "statuses": OPEN_STATUSES,
        "categories": list(Category), "risks": list(RiskLevel),
        "next_url": url_for("web.queue_page", **_without_blanks(asked), cursor=next_cursor)
        if next_cursor else None,
        "refresh_url": url_for("web.queue_rows", **_without_blanks(asked),
                               **({"cursor": request.args["cursor"]}
                                  if request.args.get("cursor") else {})),
        "refreshed": local_time(now, grant.principal.area_codes[0]
                                if grant.principal.area_codes else None),
    }, (422 if errors else 200)


def _queue_filters() -> tuple[dict, dict]:
    """The GET form's filters, checked by the API's own query schema (blank ones left
    out); errors as sentences by field."""
    asked = {name: request.args[name].strip() for name in QUEUE_FILTERS
             if request.args.get(name, "").strip()}
    try:
        return CaseQuerySchema().load(asked), {}
    except ValidationError as error:
        return {}, forms.field_errors(forms.schema_errors(error), case_forms.QUEUE_LABELS)


def _queue_slice(grant: Grant, filters: dict, now: datetime) -> tuple[list[Case], str | None]:
    """One page of the queue (keyset paging, as GET /cases?sort=queue) and the cursor of the
    next (None on the last page). A cursor of other filters or of someone else starts the
    queue over rather than failing the page."""
    query = case_service.list_cases(grant=grant, filters=filters, now=now,
                                    sort=CaseOrder.QUEUE)
    binding = {"list": "app-kasus", "filters": request.args.to_dict(), "sort": "queue"}
    binding["filters"].pop("cursor", None)
    binding["filters"].pop("lang", None)

    def page(cursor):
        return paging.keyset_page(get_session(), query, cursor=cursor, size=QUEUE_PAGE_SIZE,
                                  owner=grant.principal.user_id, binding=binding)
    try:
        found = page(request.args.get("cursor") or None)
    except InvalidInput:
        found = page(None)
    return found.rows, found.next_cursor


def _queue_row(case: dict, row: Case, names: dict[str, str]) -> dict:
    deadline = row.current_deadline
    return {
        **case,
        "category_label": label(case["category"], Category),
        "status_label": label(case["status"], CaseStatus),
        "risk_label": label(case.get("risk_level"), RiskLevel),
        "village_name": names.get(case["village_code"], case["village_code"]),
        "deadline": local_time(deadline, case["village_code"]) if deadline else "",
        "waiting_for_triage": row.status is CaseStatus.REPORTED,
    }


def _without_blanks(asked: dict) -> dict:
    return {name: value for name, value in asked.items() if value}


# ---------- the case file ----------

@blp.route("/kasus/<uuid:case_id>")
def case_file(case_id):
    """One case in the view the policy gives the caller (a reporter sees the reporter view;
    a case outside the caller's scope is 404, as in the API); staff also get its timeline,
    possible duplicates, referrals, routing plan and the forms of its actions."""
    grant = grant_for(Operation.CASE_READ)
    case = case_service.get_case(session=get_session(), grant=grant, case_id=case_id)
    return render_case_file(case, grant.principal, message=case_forms.done_message(
        request.args.get("selesai")))


def render_case_file(case: Case, principal: Principal, *, status: int = 200,
                     action: str | None = None, errors: dict | None = None,
                     values=None, changes: list | None = None,
                     message: str | None = None) -> Response:
    """The case file of CASE for PRINCIPAL; ACTION's form shown with ERRORS and the VALUES
    typed, or CHANGES (label, what the form was opened with, what is stored now) when the
    case changed since the page was opened."""
    shown = CaseSchema().dump(case)
    staff = "risk_level" in shown  # the full view: the staff's file with its actions
    page = {"case": shown, "shown": _shown(shown, case), "message": message,
            "action": action, "errors": errors or {}, "values": values or {},
            "changes": changes, "labels": case_forms.ACTION_LABELS}
    if staff:
        page.update(_staff_parts(case, shown, principal))
    return Response(render_template("staff/case.html", **page), status=status)


def _staff_parts(case: Case, shown: dict, principal: Principal) -> dict:
    """What only the full view's readers get: the version the forms carry, the timeline,
    the duplicates beside the case, the referrals and the routing plan, and the choices of
    the action forms. Each read is allowed by the policy; the page's audit event is the
    read of the case."""
    session, now = get_session(), utcnow()
    village = case.village_code
    version = versions.etag_of(case, g.case_view)
    may = {operation: allowed(operation) for operation in case_forms.ACTIONS}
    events = _latest_steps(case) if may[Operation.CASE_TIMELINE_READ] else []
    plan = PlanItemSchema(many=True).dump(
        referral_service.plan_for(session=session, case=case, now=now)) \
        if may[Operation.CASE_ROUTING_PLAN_READ] else []
    assignee = session.get(User, case.assigned_to) if case.assigned_to else None
    return {
        "version": version,
        "snapshot": case_changes.seal_snapshot(case_changes.snapshot(shown, case)),
        "may": {operation.name.lower(): granted for operation, granted in may.items()},
        "timeline": [_event(event, village) for event in
                     CaseEventSchema(many=True).dump(events)],
        "duplicates": _duplicates(case, shown),
        "referrals": [_referral(r, village) for r in ReferralSchema(many=True).dump(
            case.referrals)],
        "plan": [_plan_item(item) for item in plan],
        "routable": case.status in ROUTABLE,
        "assignee": assignee.username if assignee else "",
        "staff": [(str(user.id), user.username) for user in
                  assignment.assignable_staff(session=session, village_code=village)],
        "agencies": [(agency.code, agency.name) for agency in
                     session.scalars(list_agencies())],
        "services": [(service.value, label(service)) for service in Service],
        "risks": [(risk.value, label(risk)) for risk in RiskLevel],
        "closure_reasons": [(reason.value, label(reason)) for reason in ClosureReason],
        "moves": case_forms.moves_of(case.status, principal),
        "response_due": _when(case_forms.response_due(case), village),
    }


def _duplicates(case: Case, shown: dict) -> list[dict]:
    """Each possible duplicate the caller may open, beside this case (the same facts
    side by side)."""
    # the others are read as the case is, without becoming the request's audited act
    grant = grant_for(Operation.CASE_READ, acting=False)
    pairs = []
    for link in shown.get("possible_duplicates", []):
        try:
            other = case_service.get_case(session=get_session(), grant=grant,
                                          case_id=uuid.UUID(link["id"]))
        except DomainError:
            continue  # outside the caller's scope since the link was made
        note_shown(case=[other.id], child=[other.child_id])  # its facts are on the page
        pairs.append({"link": link, "reason": case_forms.duplicate_reason(link["reason"]),
                      "rows": case_changes.side_by_side(case, other)})
    return pairs


def _latest_steps(case: Case) -> list:
    """The case's timeline, oldest first; of a runaway one, the latest TIMELINE_SHOWN."""
    latest = (timeline.timeline_of(case).order_by(None).order_by(CaseEvent.id.desc())
              .limit(TIMELINE_SHOWN))
    return list(reversed(get_session().scalars(latest).all()))


def _event(event: dict, village: str) -> dict:
    return {**event, "when": _when(event["at"], village),
            "what": case_forms.event_label(event["kind"]),
            "actor_label": case_forms.code_label("role", event["actor"]["role"]),
            "from_label": label(event["from_status"], CaseStatus)
            if event["from_status"] else "",
            "to_label": label(event["to_status"], CaseStatus) if event["to_status"] else "",
            "facts": case_forms.event_facts(event["details"])}


def _referral(referral: dict, village: str) -> dict:
    return {**referral, "service_label": label(referral["service"], Service),
            "status_label": case_forms.referral_status_label(referral["status"]),
            "due": _when(referral["due_at"], village)}


def _plan_item(item: dict) -> dict:
    return {**item, "service_label": label(item["service"], Service)}


def _shown(case: dict, row: Case) -> dict:
    """Labels and the kelurahan's local times for the fields the view holds."""
    village = case.get("village_code")
    child = case.get("child") or {}
    return {
        "category": label(case["category"], Category),
        "status": label(case["status"], CaseStatus),
        "risk_level": label(case.get("risk_level"), RiskLevel),
        "triage_due": _when(case.get("triage_due_at"), village),
        "reported": _when(case.get("created_at"), village),
        "updated": _when(case.get("updated_at"), village),
        "closed": _when(case.get("closed_at"), village),
        "child_sex": case_forms.code_label("sex", child.get("sex")),
        "village_name": _village_names(get_session(), {village}).get(village, village)
        if village else "",
        "codes": case_forms.field_labels(case),
    }


def _when(stamp, village: str | None) -> str:
    """An ISO timestamp (or datetime) in the kelurahan's local time, or ""."""
    if not stamp:
        return ""
    if isinstance(stamp, str):
        stamp = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return local_time(stamp, village)


# ---------- regions ----------

def _village_names(session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(session.execute(select(Region.code, Region.name)
                                .where(Region.code.in_(sorted(codes)))).all())


def _villages(principal: Principal) -> list[tuple[str, str]]:
    """The kelurahan of the person's areas, by name: the queue's kelurahan filter."""
    return [(region.code, region.name) for region in get_session().scalars(
        select(Region).where(Region.level == RegionLevel.VILLAGE,
                             within_areas(Region.code, principal.area_codes))
        .order_by(Region.name))]
