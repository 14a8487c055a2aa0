"""Reporting, finding and correcting cases."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from api.auth.policy import REPORTERS, Grant, Scope, in_areas
from api.cases.models import Case, CaseReferenceCounter, PossibleDuplicate
from api.children.age import estimated_birth_date
from api.children.models import Child, Household
from api.errors import Forbidden, InvalidInput, NotFound, PreconditionFailed
from api.regions import codes as region_codes
from api.regions.service import village_exists, within_areas, within_prefix
from api.vocabularies.codes import CaseStatus, Role, Source

# how each reporter role's reports reach the office (DESIGN §5)
SOURCE_BY_ROLE = {
    Role.RT_HEAD: Source.COMMUNITY,
    Role.TEACHER: Source.SCHOOL,
    Role.POSYANDU_CADRE: Source.POSYANDU,
}
STAFF_SOURCES = (Source.HOTLINE, Source.WALK_IN, Source.OUTREACH, Source.REFERRAL_IN)
DUPLICATE_WINDOW = timedelta(days=90)


@dataclass(frozen=True)
class TriageDeadlines:
    """How long a new report may wait for triage (DESIGN §5 SLAs)."""

    emergency: timedelta
    default: timedelta

    def due_at(self, reported_at: datetime, emergency: bool) -> datetime:
        return reported_at + (self.emergency if emergency else self.default)


def visible_to(grant: Grant):
    """SQL condition: the cases GRANT covers."""
    principal = grant.principal
    if grant.scope is Scope.OWN_REPORTS:
        return Case.reporter_id == principal.user_id
    if grant.scope is Scope.AREA:
        return within_areas(Case.village_code, principal.area_codes)
    raise AssertionError(f"no case scope for {grant.scope}")


def list_cases(*, grant: Grant, filters: dict, now: datetime) -> Select:
    """The caller's cases matching FILTERS, newest first."""
    query = select(Case).where(visible_to(grant))
    for name in ("status", "category", "risk_level", "assigned_to"):
        if name in filters:
            query = query.where(getattr(Case, name) == filters[name])
    if "village_code" in filters:
        query = query.where(within_prefix(Case.village_code, filters["village_code"]))
    if "reported_from" in filters:
        query = query.where(Case.created_at >= _start_of(filters["reported_from"]))
    if "reported_to" in filters:
        query = query.where(Case.created_at < _start_of(filters["reported_to"] + timedelta(days=1)))
    if "q" in filters:
        text = filters["q"].strip()
        query = query.where(or_(
            func.upper(Case.reference) == text.upper(),
            Case.child_id.in_(select(Child.id).where(Child.name.icontains(text, autoescape=True))),
        ))
    return query.order_by(Case.created_at.desc(), Case.id.desc())


def get_case(*, session: Session, grant: Grant, case_id: uuid.UUID) -> Case:
    """The case if GRANT covers it; NotFound otherwise, whether or not it exists."""
    case = session.scalar(select(Case).where(Case.id == case_id, visible_to(grant)))
    if case is None:
        raise NotFound("No such case.")
    return case


def report_case(*, session: Session, grant: Grant, report: dict, deadlines: TriageDeadlines,
                now: datetime) -> Case:
    """File a new report: check where and by whom, number it, link possible duplicates."""
    principal = grant.principal
    report = dict(report)
    _check_village(session=session, grant=grant, village_code=report["village_code"])
    source = _source_for(principal.role, report.pop("source", None))
    child = _child_for(session=session, grant=grant, report=report, today=now.date())
    household_fields = report.pop("household", None)
    case = Case(
        **report,
        id=uuid.uuid4(),
        reference=next_reference(session=session, city_code=region_codes.city_of(
            report["village_code"]), year=now.year),
        source=source,
        reporter_id=principal.user_id,
        reporter_role=principal.role,
        child=child,
        household=Household(**household_fields) if household_fields is not None else None,
        triage_due_at=deadlines.due_at(now, report["emergency"]),
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    _link_possible_duplicates(session=session, case=case, now=now)
    return case


def correct_case(*, session: Session, grant: Grant, case: Case, changes: dict, now: datetime
                 ) -> Case:
    """Apply a caseworker's corrections to the facts of a report."""
    changes = dict(changes)
    if "village_code" in changes:
        _check_village(session=session, grant=grant, village_code=changes["village_code"])
    child_changes = changes.pop("child", None)
    household_changes = changes.pop("household", None)
    for name, value in changes.items():
        setattr(case, name, value)
    if child_changes:
        _correct_child(session=session, child=case.child, changes=child_changes, today=now.date())
    if household_changes:
        if case.household is None:
            case.household = Household()
        for name, value in household_changes.items():
            setattr(case.household, name, value)
    # a correction of the child or household alone is still a new version of the case
    case.updated_at = now
    try:
        session.flush()
    except StaleDataError:
        raise PreconditionFailed("The case was changed by someone else; reload it.") from None
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


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


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
        if grant.principal.role in REPORTERS:
            raise InvalidInput({"child_id": ["Describe the child instead."]})
        child = session.get(Child, child_id)
        if child is None or not in_areas(grant.principal, child.village_code):
            raise InvalidInput({"child_id": ["No such child in your areas."]})
        return child
    if described.get("nik"):
        # one child, one record: a known NIK links the report to the child already known
        known = session.scalar(select(Child).where(Child.nik == described["nik"]))
        if known is not None:
            return known
    fields = dict(described)
    fields.update(_birth_fields(fields, today))
    return Child(**fields, village_code=report["village_code"])


def _birth_fields(fields: dict, today: date) -> dict:
    """birth_date / age_months from the input → stored birth_date and its estimated flag."""
    if "age_months" in fields:
        return {"birth_date": estimated_birth_date(fields.pop("age_months"), today),
                "birth_date_estimated": True}
    if "birth_date" in fields:
        return {"birth_date_estimated": False}
    return {}


def _correct_child(*, session: Session, child: Child, changes: dict, today: date) -> None:
    changes = dict(changes)
    changes.update(_birth_fields(changes, today))
    nik = changes.get("nik")
    if nik and nik != child.nik:
        holder = session.scalar(select(Child.id).where(Child.nik == nik, Child.id != child.id))
        if holder is not None:
            raise InvalidInput({"child.nik": ["Another child record has this NIK."]})
    for name, value in changes.items():
        setattr(child, name, value)


def _link_possible_duplicates(*, session: Session, case: Case, now: datetime) -> None:
    """Link open cases of the last 90 days about the same child (DESIGN §5)."""
    child = case.child
    same_child = Case.child_id == child.id
    if child.nik:
        same_child = or_(same_child, Child.nik == child.nik)
    same_description = and_(
        func.lower(Child.name) == child.name.lower(),
        Child.birth_date == child.birth_date,
        Case.village_code == case.village_code,
    )
    others = session.execute(
        select(Case.id, same_child.label("same_child"))
        .join(Child, Case.child_id == Child.id)
        .where(Case.id != case.id, Case.status != CaseStatus.CLOSED,
               Case.created_at >= now - DUPLICATE_WINDOW, or_(same_child, same_description))
    ).all()
    for other_id, is_same_child in others:
        reason = "same_child" if is_same_child else "same_child_and_village"
        session.add(PossibleDuplicate(case_id=case.id, other_case_id=other_id, reason=reason))
        session.add(PossibleDuplicate(case_id=other_id, other_case_id=case.id, reason=reason))
    if others:
        session.flush()
        session.expire(case, ["duplicate_links"])
