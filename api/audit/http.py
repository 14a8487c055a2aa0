"""Every request leaves its audit event: in the request's own transaction when it succeeds,
in one of its own when it is refused (a refused request commits nothing else)."""

from flask import g, request

from api.audit import service
from api.db import get_session

DENIED = {401: "auth.denied", 403: "auth.denied"}


def audit_request(response):
    grant = g.get("grant")
    if response.status_code < 400 and grant is not None:
        operation = grant.operation.value
        kind, subject = service.subject_of(operation, response)
        action = "export" if response.mimetype == "text/csv" else operation
        details = dict(request.args) if request.method == "GET" and request.args else None
        service.record(get_session(), principal=grant.principal, action=action,
                       outcome="ok", subject_type=kind, subject_id=subject, details=details,
                       shown=g.get("audit_shown"))
    elif response.status_code in DENIED or (response.status_code == 404 and
                                            g.get("principal") is not None):
        _record_refusal(response)
    return response


def _record_refusal(response) -> None:
    # whatever the refused request had begun is undone; only the refusal is kept
    session = get_session()
    session.rollback()
    kind, subject = service.named_subject()
    service.record(session, principal=g.get("principal"),
                   action=DENIED.get(response.status_code, "not_found"),
                   outcome=str(response.status_code), subject_type=kind, subject_id=subject,
                   details={"method": request.method, "path": request.path})
    session.commit()


def init_app(app) -> None:
    # registered after the database's commit hook, so it runs before it (Flask runs
    # after_request functions last-registered first)
    app.after_request(audit_request)
