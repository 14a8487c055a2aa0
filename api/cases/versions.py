"""The version of a case a caller was shown: what its ETag is made of (If-Match on every
update, DESIGN §3), for the API's views and the staff console's forms alike, so that a
version read through one is the same version when checked through the other."""

from api.auth.policy import CaseView
from api.cases.models import Case
from api.cases.schemas import CaseSchema, shown_duplicates
from api.rest import Blueprint


def shown_version(case: Case, view: CaseView | None) -> dict:
    """What the ETag of CASE in VIEW is computed from.

    A narrower view's version is made of what it shows: versions and flags would tell a
    reporter that the case moved on in ways the view keeps from them. The full view's is the
    case's and its child's row versions (the child may be corrected through another case of
    the same child) and the flags that change with time alone ("overdue", "needs_attention").
    """
    if view is not CaseView.FULL:
        return CaseSchema().dump(case)
    return {"id": str(case.id), "version": case.version, "child_version": case.child.version,
            "overdue": case.overdue, "needs_attention": case.needs_attention,
            # a report joining the case's duplicate cluster is no new row version of it
            "possible_duplicates": shown_duplicates(case).version,
            "view": str(view)}


def etag_of(case: Case, view: CaseView | None) -> str:
    """The quoted ETag of CASE in VIEW, exactly as GET /cases/{id} sends it."""
    return Blueprint.etag_of(shown_version(case, view))
