"""The staff's pages. For now the case file a staff alert links to (/app/kasus/<id>):
the case as the caller's view shows it, read through the same policy and service as
GET /api/v1/cases/{id} (and audited as that read).
"""

from datetime import datetime

from flask import render_template

from api.auth.policy import Operation
from api.cases import service as case_service
from api.cases.schemas import CaseSchema
from api.db import get_session
from api.outbox.messages import local_time
from api.vocabularies.codes import CaseStatus, Category, RiskLevel, Sex
from api.web.i18n import label
from api.web.session import grant_for
from api.web.site import blp


@blp.route("/kasus/<uuid:case_id>")
def case_file(case_id):
    """One case, read-only, in the view the policy gives the caller (a reporter sees the
    reporter view; a case outside the caller's scope is 404, as in the API)."""
    grant = grant_for(Operation.CASE_READ)
    case = CaseSchema().dump(case_service.get_case(session=get_session(), grant=grant,
                                                   case_id=case_id))
    return render_template("staff/case.html", case=case, shown=_shown(case))


def _shown(case: dict) -> dict:
    """Labels and the kelurahan's local times for the fields the view holds."""
    village = case.get("village_code")

    def when(stamp: str | None) -> str:
        if not stamp:
            return ""
        return local_time(datetime.fromisoformat(stamp.replace("Z", "+00:00")), village)

    child = case.get("child") or {}
    return {
        "category": label(case["category"], Category),
        "status": label(case["status"], CaseStatus),
        "risk_level": label(case.get("risk_level"), RiskLevel),
        "triage_due": when(case.get("triage_due_at")),
        "reported": when(case.get("created_at")),
        "child_sex": label(child.get("sex"), Sex) if child.get("sex") else "",
    }
