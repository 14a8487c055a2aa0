"""Every request leaves its trace: an audit event in the request's own transaction when it
succeeds, in one of its own when a known caller is refused (a refused request commits
nothing else), and a count per source and hour when nobody could be identified (401).

On PostgreSQL, after the answer is built, the request seals what has been committed
(api/audit/sealer.py) if no other sealer has the turn; it never waits for one. On SQLite the
request sealed as it committed."""

import os

from flask import current_app, g, request

from api import config
from api.audit import chain, checkpoints, sealer, service
from api.db import database, get_session

DENIED = {401: "auth.denied", 403: "auth.denied"}


def audit_request(response):
    """Leave RESPONSE's trace (after_request): an event, a refusal's event, or a count."""
    grant = g.get("grant")
    if response.status_code < 400 and grant is not None:
        operation = grant.operation.value
        kind, subject = service.subject_of(operation, response)
        action = "export" if response.mimetype == "text/csv" else operation
        details = dict(request.args) if request.method == "GET" and request.args else None
        service.record(get_session(), principal=grant.principal, action=action,
                       outcome="ok", subject_type=kind, subject_id=subject, details=details,
                       shown=g.get("audit_shown"))
        g.audit_recorded = True
    elif response.status_code == 401 and g.get("principal") is None:
        _count_anonymous_refusal()
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
    g.audit_recorded = True


def _count_anonymous_refusal() -> None:
    session = get_session()
    session.rollback()
    service.count_anonymous_refusal(session, source=request.remote_addr)
    session.commit()


def seal_after_request(_exc) -> None:
    """Seal committed events once this request's own event is committed; skipped when
    another sealer has the turn (the try-lock of sealer.seal_round), so it never waits."""
    session = g.get("db_session")
    if not g.get("audit_recorded") or session is None or session.in_transaction():
        return  # nothing of this request's was committed
    if database().dialect == "sqlite":
        return  # sealed as it committed (service._append_pending)
    try:
        # one bounded batch: a backlog is the work of `lindung audit seal --follow`
        sealer.seal_pending(database().session, batch=service.SEAL_WITH_REQUEST, rounds=1)
    except Exception:  # the events are stored; any later sealer seals them
        current_app.logger.exception("audit sealing after a request failed")


def configure(app) -> None:
    """Keys and checkpoint file of this process, from the app's configuration:
    AUDIT_KEY (LINDUNG_AUDIT_KEY; derived from SECRET_KEY when unset) and AUDIT_CHECKPOINTS
    (LINDUNG_AUDIT_CHECKPOINTS; default <instance>/audit-checkpoints.jsonl; empty: the log
    line only)."""
    app.config.setdefault("AUDIT_KEY", os.environ.get("LINDUNG_AUDIT_KEY") or None)
    app.config.setdefault("AUDIT_CHECKPOINTS", os.environ.get(
        "LINDUNG_AUDIT_CHECKPOINTS", str(config.instance_path() / checkpoints.FILE_NAME)))
    chain.configure(secret_key=app.config["SECRET_KEY"], audit_key=app.config["AUDIT_KEY"])
    checkpoints.configure(secret_key=app.config["SECRET_KEY"],
                          audit_key=app.config["AUDIT_KEY"],
                          path=app.config["AUDIT_CHECKPOINTS"] or None)


def init_app(app) -> None:
    configure(app)
    # registered after the database's commit hook, so it runs before it (Flask runs
    # after_request functions last-registered first)
    app.after_request(audit_request)
    # teardown_request runs after every after_request (the commit) and before the
    # session is closed at the app context's end
    app.teardown_request(seal_after_request)
