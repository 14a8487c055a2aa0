"""Reporting, finding and correcting cases."""

import uuid
from datetime import date, datetime

from sqlalchemy import Select, and_, not_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, defaultload, lazyload
from sqlalchemy.orm.exc import StaleDataError

from api.auth.models import User
from api.auth.policy import (
    CASE_STAFF,
    REPORTERS,
    Grant,
    Operation,
    Principal,
    Scope,
    decide,
    in_areas,
)
from api.cases import duplicates, timeline, workflow
from api.cases.models import (
    AWAITING_RESPONSE,
    QUEUE_CLOSED,
    Case,
    CaseOrder,
    CaseReferenceCounter,
)
from api.cases.sla import Deadlines
from api.children import names
from api.children.models import Child, Household
from api.crypto import lookup_hash
from api.db import one_for
from api.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    PreconditionFailed,
    changed_since_read,
)
from api.outbox import alerts
from api.referrals.models import Referral
from api.regions import calendar
from api.regions import codes as region_codes
from api.regions.service import village_exists, within_areas, within_prefix
from api.vocabularies.codes import (
    CaseStatus,
    Category,
    ClosureReason,
    ReferralStatus,
    Role,
    Source,
)

# how each reporter role's reports reach the office (DESIGN §5)
SOURCE_BY_ROLE = {
    Role.RT_HEAD: Source.COMMUNITY,
    Role.TEACHER: Source.SCHOOL,
    Role.POSYANDU_CADRE: Source.POSYANDU,
}
STAFF_SOURCES = (Source.HOTLINE, Source.WALK_IN, Source.OUTREACH, Source.REFERRAL_IN)


def visible_to(grant: Grant):
    """SQL condition: the cases GRANT covers."""
    principal = grant.principal
    if grant.scope is Scope.OWN_REPORTS:
        return Case.reporter_id == principal.user_id
    if grant.scope is Scope.AREA:
        return within_areas(Case.village_code, principal.area_codes)
    raise AssertionError(f"no case scope for {grant.scope}")


# a reporter filters only on what the reporter view shows, or the filter itself would tell
# them what was learned after the report (risk, assignee, corrected village, …)
REPORTER_FILTERS = {"status", "category", "reported_from", "reported_to", "q"}


# what reading cases for their views loads: no view shows the child's measurements, and each
# referral's case is the case it was loaded with (not joined in again); both are loaded only
# if something reads them
CASE_VIEW_LOADING = (defaultload(Case.child).lazyload(Child.measurements),
                     defaultload(Case.referrals).lazyload(Referral.case))


def list_cases(*, grant: Grant, filters: dict, now: datetime,
               sort: CaseOrder = CaseOrder.NEWEST) -> Select:
    """The caller's cases matching FILTERS, in the order SORT: newest first, or the staff
    queue (open cases only: emergencies first, then the running deadline, earliest first,
    cases without one last; api/cases/models.py Case.queue_rank). Ordered by unique keys,
    ready for keyset paging (api/paging.py)."""
    reporter = grant.scope is Scope.OWN_REPORTS
    if reporter and (hidden := set(filters) - REPORTER_FILTERS):
        raise InvalidInput({name: ["Not available in the reporter view."]
                            for name in sorted(hidden)})
    if reporter and sort is not CaseOrder.NEWEST:
        # the queue's order would tell a reporter the emergency and deadlines of the case
        raise InvalidInput({"sort": ["Not available in the reporter view."]})
    query = select(Case).where(visible_to(grant)).options(*CASE_VIEW_LOADING)
    for name in ("status", "category", "risk_level", "assigned_to"):
        if name in filters:
            query = query.where(getattr(Case, name) == filters[name])
    if "village_code" in filters:
        query = query.where(within_prefix(Case.village_code, filters["village_code"]))
    if "reported_from" in filters or "reported_to" in filters:
        # days of each case's own calendar, as the statistics count them
        query = query.where(calendar.between_days(
            Case.created_at, Case.village_code, first=filters.get("reported_from"),
            last=filters.get("reported_to"), area_codes=grant.principal.area_codes))
    if "overdue" in filters:
        condition = overdue_condition(now)
        query = query.where(condition if filters["overdue"] else not_(condition))
    if "needs_attention" in filters:
        condition = needs_attention_condition(now)
        query = query.where(condition if filters["needs_attention"] else not_(condition))
    if "q" in filters:
        text = filters["q"].strip()
        # references are written in capitals (next_reference): the unique index finds it
        by_reference = Case.reference == text.upper()
        # the name as compared (children/names.py): spacing, case, accents and old spellings
        # do not matter, the same on SQLite and PostgreSQL
        by_child_name = Case.child_id.in_(
            select(Child.id).where(Child.name_key.contains(names.search_key(text))))
        query = query.where(by_reference if reporter else or_(by_reference, by_child_name))
    if sort is CaseOrder.QUEUE:
        return query.where(Case.queue_rank < QUEUE_CLOSED).order_by(
            Case.queue_rank, Case.queue_due_at, Case.created_at, Case.id)
    return query.order_by(Case.created_at.desc(), Case.id.desc())


def overdue_condition(now: datetime):
    """SQL twin of Case.overdue."""
    return or_(
        and_(Case.status == CaseStatus.REPORTED, Case.triage_due_at <= now),
        and_(Case.status.in_(AWAITING_RESPONSE), Case.response_due_at.is_not(None),
             Case.response_due_at <= now),
    )


def needs_attention_condition(now: datetime):
    """SQL twin of Case.needs_attention."""
    late_referral = (select(Referral.id).where(
        Referral.case_id == Case.id, Referral.status == ReferralStatus.PENDING,
        Referral.due_at <= now).exists())
    return or_(Case.attention_flagged, late_referral)


def get_case(*, session: Session, grant: Grant, case_id: uuid.UUID,
             for_update: bool = False) -> Case:
    """The case if GRANT covers it; NotFound otherwise, whether or not it exists.

    FOR_UPDATE locks its child's row, then its own, for an update (lock order: db.py; see
    db.one_for).
    """
    query = select(Case).where(Case.id == case_id, visible_to(grant)).options(
        *CASE_VIEW_LOADING)
    if grant.scope is Scope.OWN_REPORTS and not for_update:
        # the reporter view shows nothing of the child, household or referrals: not loaded
        query = query.options(lazyload(Case.child), lazyload(Case.household),
                              lazyload(Case.referrals))
    if for_update:
        child_id = session.scalar(query.with_only_columns(Case.child_id))
        if child_id is not None:
            session.execute(select(Child.id).where(Child.id == child_id)
                            .with_for_update(key_share=True))
    return one_for(session, query, entity=Case, for_update=for_update,
                   missing="No such case.")


def report_case(*, session: Session, grant: Grant, report: dict, deadlines: Deadlines,
                now: datetime) -> Case:
    """File a new report: check where and by whom, number it, link possible duplicates."""
    principal = grant.principal
    report = dict(report)
    _check_village(session=session, grant=grant, village_code=report["village_code"])
    source = _source_for(principal.role, report.pop("source", None))
    described = report.get("child")
    child = _child_for(session=session, grant=grant, report=report,
                       today=calendar.local_day(now, report["village_code"]))
    household_fields = report.pop("household", None)
    case = Case(
        **report, source=source, child=child,
        household=Household(**household_fields) if household_fields is not None else None,
    )
    return _file(session=session, principal=principal, case=case, deadlines=deadlines, now=now,
                 details=_reported_child(described, child))


def open_screening_case(*, session: Session, principal: Principal, child: Child, reason: str,
                        deadlines: Deadlines, now: datetime) -> Case:
    """A stunting-risk case opened by a measurement, for the child of that measurement."""
    case = Case(
        category=Category.STUNTING_RISK, village_code=child.village_code, rt=child.rt,
        rw=child.rw, emergency=False, child=child, description=reason,
        source=SOURCE_BY_ROLE.get(principal.role, Source.OUTREACH),
    )
    return _file(session=session, principal=principal, case=case, deadlines=deadlines, now=now,
                 details={"screening": reason})


def open_case_of(*, session: Session, child: Child, category: Category) -> Case | None:
    """The child's case of CATEGORY that is not closed, if any."""
    return session.scalar(select(Case).where(
        Case.child_id == child.id, Case.category == category,
        Case.status != CaseStatus.CLOSED).order_by(Case.created_at).limit(1))


def _file(*, session, principal, case, deadlines, now, details) -> Case:
    """Number, date and store a new case; write its first timeline step."""
    case.id = uuid.uuid4()
    # the year of the city's calendar: a report at 00:30 WITA on 1 January is of the new year
    case.reference = next_reference(session=session, city_code=region_codes.city_of(
        case.village_code), year=calendar.local_day(now, case.village_code).year)
    case.reporter_id = principal.user_id
    case.reporter_role = principal.role
    case.triage_due_at = deadlines.triage_due_at(now, case.emergency)
    case.created_at = case.updated_at = now
    _check_consistency(case, now)
    # after the reference counter, before the case's insert (lock order: db.py)
    _link_possible_duplicates(session=session, case=case, now=now)
    session.add(case)
    session.flush()
    timeline.record(session=session, case=case, kind="reported", actor=principal, at=now,
                    to_status=case.status, details={"source": case.source.value, **details})
    alerts.urgent_case(session=session, case=case, now=now)  # in this transaction (outbox)
    return case


def correct_case(*, session: Session, grant: Grant, case: Case, changes: dict, now: datetime
                 ) -> Case:
    """Apply a caseworker's corrections to the facts of a report."""
    changes = dict(changes)
    if not changes:
        raise InvalidInput({"_schema": ["Nothing to correct: send at least one field."]})
    if "village_code" in changes:
        _check_village(session=session, grant=grant, village_code=changes["village_code"])
    child_changes = changes.pop("child", None)
    household_changes = changes.pop("household", None)
    for name, value in changes.items():
        setattr(case, name, value)
    if child_changes:
        _correct_child(session=session, grant=grant, child=case.child, changes=child_changes,
                       today=calendar.local_day(now, case.village_code))
    if household_changes:
        if case.household is None:
            case.household = Household()
        for name, value in household_changes.items():
            setattr(case.household, name, value)
    _check_consistency(case, now)
    # a correction of the child or household alone is still a new version of the case
    case.updated_at = now
    timeline.record(session=session, case=case, kind="corrected", actor=grant.principal, at=now,
                    details={"fields": sorted([*changes, *(["child"] if child_changes else []),
                                               *(["household"] if household_changes else [])])})
    return _flush(session, case)


def triage_case(*, session: Session, grant: Grant, case: Case, triage: dict,
                deadlines: Deadlines, now: datetime) -> Case:
    """Set risk level, emergency and assignee; a reported case becomes triaged."""
    previous = case.status
    case.status = workflow.after_triage(previous)
    case.risk_level = triage["risk_level"]
    case.emergency = triage.get("emergency", case.emergency)
    if "assigned_to" in triage:
        case.assigned_to = _assignee(session=session, case=case, user_id=triage["assigned_to"])
    elif case.assigned_to is None and grant.principal.role is Role.CASEWORKER:
        case.assigned_to = grant.principal.user_id
    case.triaged_at = now
    if case.status in AWAITING_RESPONSE:
        case.response_due_at = deadlines.response_due_at(now, case.risk_level, case.emergency)
    case.updated_at = now
    timeline.record(
        session=session, case=case, kind="triaged", actor=grant.principal, at=now,
        from_status=previous, to_status=case.status, note=triage.get("note"),
        details={"risk_level": case.risk_level.value, "emergency": case.emergency,
                 "assigned_to": str(case.assigned_to) if case.assigned_to else None},
    )
    _flush(session, case)
    alerts.urgent_case(session=session, case=case, now=now)  # once per person (alerts.py)
    return case


def transition_case(*, session: Session, grant: Grant, case: Case, target: CaseStatus,
                    reason: str | None, note: str | None, deadlines: Deadlines,
                    now: datetime) -> Case:
    """Close, reopen (supervisors), or move a case between in_service and monitoring."""
    previous = case.status
    move = workflow.manual_move(previous, target)
    details = {}
    if move is workflow.Move.CLOSE:
        case.closure_reason = _closure_reason(reason)
        open_referrals = [r for r in case.referrals if r.is_open]
        if open_referrals:
            raise Conflict(f"{len(open_referrals)} referral(s) of this case are still open: "
                           "cancel them, or wait until the agencies complete them.")
        case.closed_at = now
        case.attention_flagged = False  # nothing is pending on a closed case
        details["closure_reason"] = case.closure_reason.value
    elif move is workflow.Move.REOPEN:
        decide(grant.principal, Operation.CASE_REOPEN)
        if target is CaseStatus.TRIAGED and case.risk_level is None:
            raise Conflict("This case was never triaged: reopen it as reported.")
        case.closure_reason = None
        case.closed_at = None
        # a reopened case gets fresh deadlines from the reopening, not the old, long-past ones
        if target is CaseStatus.REPORTED:
            case.triage_due_at = deadlines.triage_due_at(now, case.emergency)
        case.response_due_at = (deadlines.response_due_at(now, case.risk_level, case.emergency)
                                if case.risk_level else None)
    case.status = target
    case.updated_at = now
    timeline.record(session=session, case=case, kind="status_changed", actor=grant.principal,
                    at=now, from_status=previous, to_status=target,
                    note=note if move is workflow.Move.CLOSE else (note or reason),
                    details=details)
    return _flush(session, case)


def _check_consistency(case: Case, now: datetime) -> None:
    """Rules across fields, for a new report and after every correction; dates in the
    calendar of the case's kelurahan (DESIGN §5)."""
    errors = _date_problems(case, now)
    if case.category is Category.VIOLENCE and not case.violence_types:
        errors["violence_types"] = ["Name at least one form of violence."]
    if case.category is Category.STUNTING_RISK:
        for name in ("violence_types", "perpetrator_relation", "incident_place"):
            if getattr(case, name):
                errors[name] = ["Only a report of violence has this."]
    if errors:
        raise InvalidInput(errors)


def _date_problems(case: Case, now: datetime) -> dict[str, list[str]]:
    """The report's dates in the calendar of its kelurahan; the child is under 18 on the day
    it was reported (a correction years later does not make the child an adult)."""
    problems = calendar.report_date_problems(
        case.village_code, birth_date=case.child.birth_date, incident_date=case.incident_date,
        reported_on=calendar.local_day(case.created_at or now, case.village_code))
    return {("child.birth_date" if name == "birth_date" else name): messages
            for name, messages in problems.items()}


def _closure_reason(reason: str | None) -> ClosureReason:
    try:
        return ClosureReason(reason)
    except ValueError:
        allowed = ", ".join(r.value for r in ClosureReason)
        raise InvalidInput({"reason": [f"Closing needs a closure reason: one of {allowed}."]}
                           ) from None


def _assignee(*, session: Session, case: Case, user_id: uuid.UUID) -> uuid.UUID:
    """A caseworker or supervisor whose areas cover the case."""
    user = session.get(User, user_id)
    if (user is None or not user.active or user.role not in CASE_STAFF
            or not any(region_codes.covers(a, case.village_code) for a in user.area_codes)):
        raise InvalidInput({"assigned_to": ["Not a caseworker of this case's area."]})
    return user.id


def _flush(session: Session, case: Case) -> Case:
    try:
        session.flush()
    except StaleDataError:
        raise PreconditionFailed(changed_since_read("case")) from None
    return case


def next_reference(*, session: Session, city_code: str, year: int) -> str:
    """The next case reference of a city and year, e.g. KS-6471-2026-000123.

    One atomic upsert: concurrent reports lock the same counter row (PostgreSQL) or hold
    the database's write lock (SQLite), so no number is given twice.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = CaseReferenceCounter.__table__
    statement = (
        insert(table)
        .values(city_code=city_code, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=[table.c.city_code, table.c.year],
            set_={"last_number": table.c.last_number + 1},
        )
        .returning(table.c.last_number)
    )
    number = session.execute(statement).scalar_one()
    return f"KS-{city_code}-{year}-{number:06d}"


def _check_village(*, session: Session, grant: Grant, village_code: str) -> None:
    if not village_exists(session=session, code=village_code):
        raise InvalidInput({"village_code": ["No kelurahan has this code."]})
    if grant.scope is Scope.AREA and not in_areas(grant.principal, village_code):
        raise Forbidden("This kelurahan is outside your areas.")


def _source_for(role: Role, requested: Source | None) -> Source:
    if role in REPORTERS:
        if requested is not None:
            raise InvalidInput({"source": ["Set from your role; leave it out."]})
        return SOURCE_BY_ROLE[role]
    if requested not in STAFF_SOURCES:
        allowed = ", ".join(s.value for s in STAFF_SOURCES)
        raise InvalidInput({"source": [f"Say how the report came in: one of {allowed}."]})
    return requested


def _child_for(*, session: Session, grant: Grant, report: dict, today: date) -> Child:
    child_id = report.pop("child_id", None)
    described = report.pop("child", None)
    if child_id is not None:
        child = session.get(Child, child_id)
        if child is None or not in_areas(grant.principal, child.village_code):
            raise InvalidInput({"child_id": ["No such child in your areas."]})
        return child
    fields = dict(described)
    fields.update(_birth_fields(fields, today))
    if fields.get("nik"):
        # one child, one record per area: a NIK known here links the report to that child
        known = session.scalars(select(Child).where(
            Child.nik_hash == lookup_hash(fields["nik"]))).all()
        for child in known:
            if in_areas(grant.principal, child.village_code):
                return child
    return Child(**fields, village_code=report["village_code"])


def _reported_child(described: dict | None, child: Child) -> dict:
    """What the reporter wrote of the child where it differs from the record it was linked
    to, so nothing typed is lost when a known NIK links a report to a known child."""
    if not described:
        return {}
    differences = {name: str(value) for name, value in described.items()
                   if name not in ("nik", "age_months") and getattr(child, name, None) != value}
    return {"reported_child": differences} if differences else {}


def _birth_fields(fields: dict, today: date) -> dict:
    """birth_date / age_months from the input → stored birth_date and its estimated flag."""
    if "age_months" in fields:
        return {"birth_date": calendar.estimated_birth_date(fields.pop("age_months"), today),
                "birth_date_estimated": True}
    if "birth_date" in fields:
        return {"birth_date_estimated": False}
    return {}


def _correct_child(*, session: Session, grant: Grant, child: Child, changes: dict,
                   today: date) -> None:
    changes = dict(changes)
    changes.update(_birth_fields(changes, today))
    nik = changes.get("nik")
    if nik and nik != child.nik:
        # one record per NIK in the caller's areas, as on report; whether a child elsewhere
        # has this NIK is not the caller's to learn
        holder = session.scalar(select(Child.id).where(
            Child.nik_hash == lookup_hash(nik), Child.id != child.id,
            within_areas(Child.village_code, grant.principal.area_codes)))
        if holder is not None:
            raise InvalidInput({"child.nik": ["Another child record has this NIK."]})
    for name, value in changes.items():
        setattr(child, name, value)


def _link_possible_duplicates(*, session: Session, case: Case, now: datetime) -> None:
    """Put a new case (not yet stored) into the cluster of the open cases of the last 90 days
    in its city that may be about the same child (DESIGN §5; cases/duplicates.py)."""
    case.duplicate_cluster_id = duplicates.cluster_on_report(session=session, case=case,
                                                             now=now)


def decide_duplicate(*, session: Session, grant: Grant, case: Case, other_case_id: uuid.UUID,
                     decision: str, note: str | None, now: datetime) -> Case:
    """A caseworker's decision on a possible duplicate OTHER_CASE_ID of CASE (locked; its
    If-Match checked): `not_duplicate` shows the pair no more, on either case, for good;
    `confirmed` closes the newer of the two with closure reason `duplicate`.

    InvalidInput when OTHER_CASE_ID is not a possible duplicate CASE shows the caller;
    Conflict (409) when the newer case is closed already or has open referrals.
    Both cases get a "duplicate_decided" step on their timelines.
    """
    decision = duplicates.DuplicateDecision(decision)
    principal = grant.principal
    if not duplicates.is_shown(session=session, principal=principal, case=case,
                               other_id=other_case_id):
        raise InvalidInput({"other_case_id": ["Not a possible duplicate of this case."]})
    other = get_case(session=session, grant=grant, case_id=other_case_id)
    details = {"decision": decision.value}
    for subject, counterpart in ((case, other), (other, case)):
        timeline.record(session=session, case=subject, kind="duplicate_decided",
                        actor=principal, at=now, note=note,
                        details={**details, "other_case_id": str(counterpart.id),
                                 "other_reference": counterpart.reference,
                                 # whose areas may read of the other case (CaseEventSchema)
                                 "other_village_code": counterpart.village_code})
    if decision is duplicates.DuplicateDecision.NOT_DUPLICATE:
        duplicates.dismiss(session=session, case_id=case.id, other_id=other.id,
                           principal=principal, now=now)
        case.updated_at = now  # what the case shows changed: a new version of it
    else:
        newer = max(case, other, key=lambda c: (c.created_at, str(c.id)))
        if newer.status is CaseStatus.CLOSED:
            raise Conflict(f"The newer case {newer.reference} is closed already.")
        transition_case(session=session, grant=grant, case=newer, target=CaseStatus.CLOSED,
                        reason=ClosureReason.DUPLICATE.value, note=note, deadlines=None,
                        now=now)
        if newer is not case:
            case.updated_at = now
    duplicates.forget_shown(case)
    return _flush(session, case)
