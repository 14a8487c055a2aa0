"""/cases: report, list, read and correct cases."""

from flask import current_app, g
from flask.views import MethodView

from api.auth.policy import Grant, Operation, case_view
from api.cases import service
from api.cases.models import Case
from api.cases.schemas import CaseCorrectionSchema, CaseQuerySchema, CaseReportSchema, CaseSchema
from api.db import get_session, utcnow
from api.idempotency.guard import IDEMPOTENCY_KEY_PARAMETER, idempotent
from api.rest import Blueprint, SelectPage

blp = Blueprint("cases", __name__, url_prefix="/api/v1/cases", description="Cases")


def _show_as(grant: Grant) -> None:
    """Serialize cases in this request with the view the caller's role is allowed."""
    g.case_view = case_view(grant.principal.role)


def _etag_data(case: Case) -> dict:
    return {"id": str(case.id), "version": case.version, "view": g.case_view.value}


def _deadlines() -> service.TriageDeadlines:
    return service.TriageDeadlines(emergency=current_app.config["TRIAGE_DUE_EMERGENCY"],
                                   default=current_app.config["TRIAGE_DUE_DEFAULT"])


@blp.route("")
class Cases(MethodView):
    @blp.requires(Operation.CASE_LIST)
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, CaseSchema(many=True))
    @blp.paginate(SelectPage, max_page_size=100)
    def get(self, filters, *, grant):
        """List the caller's cases: reporters their own reports, caseworkers their areas"""
        _show_as(grant)
        return service.list_cases(grant=grant, filters=filters, now=utcnow())

    @blp.requires(Operation.CASE_CREATE)
    @idempotent
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    @blp.arguments(CaseReportSchema)
    @blp.response(201, CaseSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, report, *, grant):
        """Report a case of violence against a child or of stunting risk"""
        _show_as(grant)
        case = service.report_case(session=get_session(), grant=grant, report=report,
                                   deadlines=_deadlines(), now=utcnow())
        return case, 201, {"Location": f"{blp.url_prefix}/{case.id}"}


@blp.route("/<uuid:case_id>")
class CaseById(MethodView):
    @blp.requires(Operation.CASE_READ)
    @blp.etag
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, case_id, *, grant):
        """Read one case (reporter view or full view, by role)"""
        _show_as(grant)
        case = service.get_case(session=get_session(), grant=grant, case_id=case_id)
        blp.set_etag(_etag_data(case))
        return case

    @blp.requires(Operation.CASE_UPDATE)
    @blp.etag
    @blp.arguments(CaseCorrectionSchema)
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes, case_id, *, grant):
        """Correct the facts of a report (If-Match required)"""
        _show_as(grant)
        session = get_session()
        case = service.get_case(session=session, grant=grant, case_id=case_id)
        blp.check_etag(_etag_data(case))
        case = service.correct_case(session=session, grant=grant, case=case, changes=changes,
                                    now=utcnow())
        blp.set_etag(_etag_data(case))
        return case
