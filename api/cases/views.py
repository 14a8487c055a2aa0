"""/cases: report, list, read and correct cases; triage, transitions and the timeline."""

from flask import current_app, g
from flask.views import MethodView

from api.auth.policy import Operation
from api.cases import service, timeline, versions
from api.cases.models import Case, CaseOrder
from api.cases.schemas import (
    CaseCorrectionSchema,
    CaseEventSchema,
    CaseQuerySchema,
    CaseReportSchema,
    CaseSchema,
    CaseTransitionSchema,
    CaseTriageSchema,
    DuplicateDecisionSchema,
)
from api.cases.sla import Deadlines
from api.db import get_session, utcnow
from api.idempotency.guard import IDEMPOTENCY_KEY_PARAMETER, idempotent
from api.rest import CREATED_WITH_ETAG_HEADERS, CURSOR_PAGING_HEADERS, Blueprint

blp = Blueprint("cases", __name__, url_prefix="/api/v1/cases", description="Cases")


def etag_data(case: Case) -> dict:
    # shared with the staff console's forms (cases/versions.py)
    return versions.shown_version(case, g.case_view)


def deadlines() -> Deadlines:
    return Deadlines.from_config(current_app.config)


def checked_case(case_id, grant) -> Case:
    """The case in the caller's scope, after its If-Match was checked (428 / 412)."""
    case = service.get_case(session=get_session(), grant=grant, case_id=case_id,
                            for_update=True)
    blp.check_etag(etag_data(case))
    return case


def answer_with(case: Case) -> Case:
    blp.set_etag(etag_data(case))
    return case


@blp.route("")
class Cases(MethodView):
    @blp.requires(Operation.CASE_LIST)
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, CaseSchema(many=True), headers=CURSOR_PAGING_HEADERS)
    @blp.keyset(page_size=50, max_page_size=100)
    @blp.doc(operationId="listCases")
    def get(self, filters, *, grant):
        """List the caller's cases: reporters their own reports, caseworkers their areas;
        newest first, or as the staff queue (sort=queue)"""
        sort = filters.pop("sort", CaseOrder.NEWEST)
        return service.list_cases(grant=grant, filters=filters, now=utcnow(), sort=sort)

    @blp.requires(Operation.CASE_CREATE)
    @idempotent
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    @blp.arguments(CaseReportSchema)
    @blp.response(201, CaseSchema, headers=CREATED_WITH_ETAG_HEADERS)
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(operationId="reportCase")
    def post(self, report, *, grant):
        """Report a case of violence against a child or of stunting risk"""
        case = service.report_case(session=get_session(), grant=grant, report=report,
                                   deadlines=deadlines(), now=utcnow())
        return case, 201, {"Location": f"{blp.url_prefix}/{case.id}",
                           "ETag": blp.etag_of(etag_data(case))}


@blp.route("/<uuid:case_id>")
class CaseById(MethodView):
    @blp.requires(Operation.CASE_READ)
    @blp.etag
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="getCase")
    def get(self, case_id, *, grant):
        """Read one case (reporter view or full view, by role)"""
        return answer_with(service.get_case(session=get_session(), grant=grant, case_id=case_id))

    @blp.requires(Operation.CASE_UPDATE)
    @blp.etag
    @blp.arguments(CaseCorrectionSchema)
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="updateCase")
    def patch(self, changes, case_id, *, grant):
        """Correct the facts of a report (If-Match required)"""
        case = checked_case(case_id, grant)
        return answer_with(service.correct_case(session=get_session(), grant=grant, case=case,
                                                changes=changes, now=utcnow()))


@blp.route("/<uuid:case_id>/triage")
class CaseTriage(MethodView):
    @blp.requires(Operation.CASE_TRIAGE)
    @blp.etag
    @blp.arguments(CaseTriageSchema)
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(operationId="triageCase")
    def post(self, triage, case_id, *, grant):
        """Triage a case: risk level, emergency, assigned caseworker (If-Match required)"""
        case = checked_case(case_id, grant)
        return answer_with(service.triage_case(session=get_session(), grant=grant, case=case,
                                               triage=triage, deadlines=deadlines(),
                                               now=utcnow()))


@blp.route("/<uuid:case_id>/transitions")
class CaseTransitions(MethodView):
    @blp.requires(Operation.CASE_TRANSITION)
    @blp.etag
    @blp.arguments(CaseTransitionSchema)
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(operationId="transitionCase")
    def post(self, transition, case_id, *, grant):
        """Close a case (reason = closure_reason), reopen it (supervisors), or move it
        between in_service and monitoring (If-Match required)"""
        case = checked_case(case_id, grant)
        return answer_with(service.transition_case(
            session=get_session(), grant=grant, case=case, target=transition["to"],
            reason=transition.get("reason"), note=transition.get("note"),
            deadlines=deadlines(), now=utcnow()))


@blp.route("/<uuid:case_id>/timeline")
class CaseTimeline(MethodView):
    @blp.requires(Operation.CASE_TIMELINE_READ)
    @blp.response(200, CaseEventSchema(many=True), headers=CURSOR_PAGING_HEADERS)
    @blp.keyset(page_size=100, max_page_size=100)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="getCaseTimeline")
    def get(self, case_id, *, grant):
        """Every step of a case: who, when, from → to, note"""
        case = service.get_case(session=get_session(), grant=grant, case_id=case_id)
        return timeline.timeline_of(case)


@blp.route("/<uuid:case_id>/duplicates")
class CaseDuplicates(MethodView):
    @blp.requires(Operation.CASE_DUPLICATE_DECIDE)
    @blp.etag
    @blp.arguments(DuplicateDecisionSchema)
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(operationId="decideDuplicate")
    def post(self, decision, case_id, *, grant):
        """Decide a possible duplicate: confirmed (the newer case is closed as a duplicate)
        or not_duplicate (the pair is shown no more) (If-Match required)"""
        case = checked_case(case_id, grant)
        return answer_with(service.decide_duplicate(
            session=get_session(), grant=grant, case=case,
            other_case_id=decision["other_case_id"], decision=decision["decision"],
            note=decision.get("note"), now=utcnow()))
