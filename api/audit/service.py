"""Recording audit events in the transaction of the action they describe, counting
anonymous refusals, and finding events."""

from functools import cache

from flask import g, request
from sqlalchemy import Select, and_, bindparam, event, false, func, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.audit import sealer
from api.audit.models import AnonymousRefusalCount, AuditEvent, AuditSubject
from api.auth.policy import Grant, Scope
from api.auth.service import working_in
from api.db import utcnow
from api.observability import request_ids
from api.regions import codes
from api.vocabularies.codes import RegionLevel

PENDING = "audit_pending"
# the events a request seals at most beside its own, so a backlog never slows one request much
SEAL_WITH_REQUEST = 200
# which path parameter names which kind of subject
SUBJECT_PARAMETERS = {"case_id": "case", "referral_id": "referral", "child_id": "child",
                      "user_id": "user", "token_id": "token", "code": "agency"}
CREATED_SUBJECTS = {"case.create": "case", "referral.create": "referral",
                    "measurement.create": "measurement", "user.create": "user",
                    "agency.create": "agency", "token.create": "token"}


def note_shown(**ids_by_kind) -> None:
    """Note what the request's answer shows (case=[ids], child=[ids], referral=[ids]): the
    audit event of the request names each, so a list read is a read of each."""
    shown = g.setdefault("audit_shown", {})
    for kind, ids in ids_by_kind.items():
        shown.setdefault(kind, set()).update(str(i) for i in ids if i is not None)


def record(session: Session, *, principal, action: str, outcome: str,
           subject_type: str | None = None, subject_id: str | None = None,
           details: dict | None = None, shown: dict | None = None) -> None:
    """Queue an event; it is stored when SESSION commits, or not at all, and sealed into
    the chain after that (api/audit/sealer.py).

    SHOWN ({kind: ids}) names what the answer showed besides the subject; the ids go into
    the details (covered by the chain) and are indexed for access logs."""
    details = dict(details or {})
    if shown := {kind: sorted(ids) for kind, ids in sorted((shown or {}).items()) if ids}:
        details["shown"] = shown
    session.info.setdefault(PENDING, []).append(AuditEvent(
        at=utcnow(), action=action, outcome=outcome, subject_type=subject_type,
        subject_id=subject_id, details=details,
        actor_id=principal.user_id if principal else None,
        actor_role=principal.role.value if principal else None,
        agency=principal.agency_code if principal else None,
        request_id=request_id(), client_ip=request.remote_addr if request else None,
    ))


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    # appended unsealed and without a lock: requests commit side by side, and the sealer
    # (api/audit/sealer.py) chains what they committed; SQLite's single writer seals here
    pending = session.info.pop(PENDING, None)
    if pending:
        session.add_all(pending)
        session.flush()
        session.add_all(AuditSubject(event_id=event.id, subject_type=kind, subject_id=subject)
                        for event in pending
                        for kind, ids in event.details.get("shown", {}).items()
                        for subject in ids if subject != event.subject_id)
        if session.get_bind().dialect.name == "sqlite":
            sealer.seal_before_commit(session, batch=SEAL_WITH_REQUEST)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(PENDING, None)


def count_anonymous_refusal(session: Session, *, source: str | None) -> None:
    """Count one request refused for want of credentials from SOURCE (an address) in the
    current hour: one row per source and hour, however many arrive (an upsert, so racing
    workers add up instead of colliding)."""
    now = utcnow()
    session.execute(_refusal_upsert(session.get_bind().dialect.name), {
        "source": (source or "unknown")[:45],
        "window_start": now.replace(minute=0, second=0, microsecond=0), "last_at": now})


@cache
def _refusal_upsert(dialect: str):
    counts = AnonymousRefusalCount.__table__
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(counts).values(source=bindparam("source"),
                                      window_start=bindparam("window_start"), refusals=1,
                                      last_at=bindparam("last_at"))
    return statement.on_conflict_do_update(
        index_elements=[counts.c.source, counts.c.window_start],
        set_={"refusals": counts.c.refusals + 1, "last_at": statement.excluded.last_at})


def anonymous_refusals(session: Session, *, since) -> tuple[int, int]:
    """(refusals, sources) counted in the hours from SINCE on."""
    return tuple(session.execute(
        select(func.coalesce(func.sum(AnonymousRefusalCount.refusals), 0),
               func.count(func.distinct(AnonymousRefusalCount.source)))
        .where(AnonymousRefusalCount.window_start >= since)).one())


def request_id() -> str:
    """The request's id, as echoed in X-Request-ID (api/observability/request_ids.py)."""
    return request_ids.request_id()


def name_subject(kind: str, subject_id: str) -> None:
    """Name what this request is about when its path does not (a city's routing rules,
    asked for by a query parameter or by the caller's areas)."""
    g.audit_subject = (kind, subject_id)


def named_subject() -> tuple[str | None, str | None]:
    """What the request named itself about: a subject named by its view, or a path
    parameter."""
    if "audit_subject" in g:
        return g.audit_subject
    for parameter, kind in SUBJECT_PARAMETERS.items():
        if parameter in (request.view_args or {}):
            return kind, str(request.view_args[parameter])
    return None, None


def subject_of(operation: str, response) -> tuple[str | None, str | None]:
    """What the request was about: a named subject, or the id of what it created."""
    kind, subject = named_subject()
    if kind is not None:
        return kind, subject
    if operation in CREATED_SUBJECTS and response.is_json:
        body = response.get_json(silent=True) or {}
        return CREATED_SUBJECTS[operation], str(body.get("id") or body.get("code") or "")
    return None, None


def events(filters: dict, grant: Grant) -> Select:
    """Audit events GRANT covers, newest first, filtered by actor, subject, action and time."""
    query = select(AuditEvent)
    if grant.scope is Scope.AREA:
        areas = grant.principal.area_codes
        query = query.where(or_(AuditEvent.actor_id.in_(_working_in(areas)),
                                _about_their_cities(areas)))
    if "actor_id" in filters:
        query = query.where(AuditEvent.actor_id == filters["actor_id"])
    if "subject_id" in filters:
        query = query.where(_about([str(filters["subject_id"])]))
    if "action" in filters:
        query = query.where(AuditEvent.action == filters["action"])
    if "from_" in filters:
        query = query.where(AuditEvent.at >= filters["from_"])
    if "to" in filters:
        query = query.where(AuditEvent.at < filters["to"])
    return query.order_by(AuditEvent.id.desc())


def _working_in(area_codes) -> Select:
    """The users with an area inside one of AREA_CODES (the same people GET /users shows
    a supervisor)."""
    return working_in(area_codes)


def _about_their_cities(area_codes):
    """SQL condition: the event is about a city one of AREA_CODES lies in or covers (a change
    of its routing rules, or a refused attempt at one), whoever acted: the rules route the
    cases of those areas."""
    cities = [AuditEvent.subject_id.startswith(code, autoescape=True)
              if codes.level_of(code) is RegionLevel.PROVINCE
              else AuditEvent.subject_id == codes.city_of(code) for code in area_codes]
    return and_(AuditEvent.subject_type == "city", or_(*cities) if cities else false())


def access_log(subject_ids: list[str]) -> Select:
    """Who read or changed any of SUBJECT_IDS (a child's, its cases' and referrals'), newest
    first."""
    return select(AuditEvent).where(_about(subject_ids)).order_by(AuditEvent.id.desc())


def _about(subject_ids: list[str]):
    """SQL condition: the event's subject is one of SUBJECT_IDS, or its answer showed one
    (a list read); each side on an index."""
    return or_(AuditEvent.subject_id.in_(subject_ids), AuditEvent.id.in_(
        select(AuditSubject.event_id).where(AuditSubject.subject_id.in_(subject_ids))))
