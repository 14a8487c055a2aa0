"""Recording audit events in the transaction of the action they describe."""

import uuid

from flask import g, request
from sqlalchemy import Select, event, false, or_, select
from sqlalchemy.orm import Session

from api.audit import chain
from api.audit.models import AuditEvent
from api.auth.models import UserArea
from api.auth.policy import Grant, Scope
from api.db import utcnow

PENDING = "audit_pending"
# which path parameter names which kind of subject
SUBJECT_PARAMETERS = {"case_id": "case", "referral_id": "referral", "child_id": "child",
                      "user_id": "user", "token_id": "token", "code": "agency"}
CREATED_SUBJECTS = {"case.create": "case", "referral.create": "referral",
                    "measurement.create": "measurement", "user.create": "user",
                    "agency.create": "agency", "token.create": "token"}


def record(session: Session, *, principal, action: str, outcome: str,
           subject_type: str | None = None, subject_id: str | None = None,
           details: dict | None = None) -> None:
    """Queue an event; it is chained and stored when SESSION commits, or not at all."""
    session.info.setdefault(PENDING, []).append(AuditEvent(
        at=utcnow(), action=action, outcome=outcome, subject_type=subject_type,
        subject_id=subject_id, details=details or {},
        actor_id=principal.user_id if principal else None,
        actor_role=principal.role.value if principal else None,
        agency=principal.agency_code if principal else None,
        request_id=request_id(), client_ip=request.remote_addr if request else None,
    ))


@event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if pending:
        chain.append(session, pending)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(PENDING, None)


def request_id() -> str:
    if "request_id" not in g:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if 0 < len(given) <= 64 and given.isprintable() \
            else str(uuid.uuid4())
    return g.request_id


def subject_of(operation: str, response) -> tuple[str | None, str | None]:
    """What the request was about: a path parameter, or the id of what it created."""
    for parameter, kind in SUBJECT_PARAMETERS.items():
        if parameter in (request.view_args or {}):
            return kind, str(request.view_args[parameter])
    if operation in CREATED_SUBJECTS and response.is_json:
        body = response.get_json(silent=True) or {}
        return CREATED_SUBJECTS[operation], str(body.get("id") or body.get("code") or "")
    return None, None


def events(filters: dict, grant: Grant) -> Select:
    """Audit events GRANT covers, newest first, filtered by actor, subject, action and time."""
    query = select(AuditEvent)
    if grant.scope is Scope.AREA:
        query = query.where(AuditEvent.actor_id.in_(_working_in(grant.principal.area_codes)))
    if "actor_id" in filters:
        query = query.where(AuditEvent.actor_id == filters["actor_id"])
    if "subject_id" in filters:
        query = query.where(AuditEvent.subject_id == str(filters["subject_id"]))
    if "action" in filters:
        query = query.where(AuditEvent.action == filters["action"])
    if "from_" in filters:
        query = query.where(AuditEvent.at >= filters["from_"])
    if "to" in filters:
        query = query.where(AuditEvent.at < filters["to"])
    return query.order_by(AuditEvent.id.desc())


def _working_in(area_codes) -> Select:
    """The users with an area inside one of AREA_CODES."""
    inside = [UserArea.region_code.startswith(code, autoescape=True) for code in area_codes]
    return select(UserArea.user_id).where(or_(*inside) if inside else false())


def access_log(subject_ids: list[str]) -> Select:
    """Who read or changed any of SUBJECT_IDS (a child's, its cases' and referrals'), newest
    first."""
    return (select(AuditEvent).where(AuditEvent.subject_id.in_(subject_ids))
            .order_by(AuditEvent.id.desc()))
