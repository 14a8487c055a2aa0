"""GET /audit-events and GET /children/{id}/access-log."""

from flask.views import MethodView

from api.audit import service
from api.audit.schemas import AuditEventSchema, AuditQuerySchema
from api.auth.policy import Operation, in_areas
from api.children.service import get_child
from api.db import get_session
from api.rest import CURSOR_PAGING_HEADERS, Blueprint

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Audit trail")


@blp.route("/audit-events")
class AuditEvents(MethodView):
    @blp.requires(Operation.AUDIT_READ)
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEventSchema(many=True), headers=CURSOR_PAGING_HEADERS)
    @blp.keyset(page_size=50, max_page_size=100)
    @blp.doc(operationId="listAuditEvents")
    def get(self, filters, *, grant):
        """Audit events, newest first

        Supervisors read the events of the people working in their areas; admins read
        everybody's, without the words searched for.
        """
        return service.events(filters, grant)


@blp.route("/children/<uuid:child_id>/access-log")
class ChildAccessLog(MethodView):
    @blp.requires(Operation.CHILD_ACCESS_LOG)
    @blp.response(200, AuditEventSchema(many=True), headers=CURSOR_PAGING_HEADERS)
    @blp.keyset(page_size=50, max_page_size=100)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="listChildAccessLog")
    def get(self, child_id, *, grant):
        """Who saw or changed this child's data, and when: the child, its cases and their
        referrals (a data subject's request, UU PDP 27/2022)"""
        child = get_child(session=get_session(), grant=grant, child_id=child_id)
        subjects = [str(child.id)]
        for case in child.cases:
            if in_areas(grant.principal, case.village_code):  # the others are not theirs
                subjects += [str(case.id), *(str(r.id) for r in case.referrals)]
        return service.access_log(subjects)
