"""Who is alerted of what (DESIGN §8).

- a report with `emergency`, or triaged with risk `high` → the caseworkers whose areas cover
  its kelurahan, at once (`case.urgent`);
- triage overdue → those caseworkers and the supervisors of the area (`case.triage_overdue`);
- a referral declined (`referral.declined`) or not accepted by its due time
  (`referral.overdue`) → the assigned caseworker (the area's caseworkers when nobody is
  assigned); still unanswered one response SLA (cases/sla.py, by the case's risk) later →
  the area's supervisors (`referral.escalated`);
- an agency endpoint given up on → the admins (`endpoint.failing`).

Deadlines past are found by the worker's periodic `scan`; one alert per kind, subject and
person is kept by the database (outbox/models.py Alert), so scans may repeat and overlap.
"""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from api.auth.models import User, UserArea
from api.cases.models import Case
from api.cases.sla import Deadlines
from api.outbox.service import raise_alert
from api.referrals.models import Referral
from api.vocabularies.codes import CaseStatus, ReferralStatus, RiskLevel, Role

# a deadline missed longer ago than this is not alerted any more (a worker stopped for a
# week would otherwise wake everybody with last month's cases)
LOOKBACK = timedelta(days=7)


def staff_covering(*, session: Session, village_code: str, roles: tuple[Role, ...]
                   ) -> list[User]:
    """Active users of ROLES one of whose areas covers VILLAGE_CODE."""
    covering = literal(village_code).like(UserArea.region_code.concat("%"))
    return list(session.scalars(
        select(User).join(UserArea, UserArea.user_id == User.id)
        .where(User.role.in_(roles), User.active, covering).distinct().order_by(User.id)))


def _assignee_or_caseworkers(session: Session, case: Case) -> list[User]:
    assignee = session.get(User, case.assigned_to) if case.assigned_to else None
    if assignee is not None and assignee.active:
        return [assignee]
    return staff_covering(session=session, village_code=case.village_code,
                          roles=(Role.CASEWORKER,))


def urgent_case(*, session: Session, case: Case, now: datetime) -> None:
    """A report in danger (emergency, or risk high): its area's caseworkers, at once."""
    if not (case.emergency or case.risk_level is RiskLevel.HIGH):
        return
    deadline = case.triage_due_at if case.status is CaseStatus.REPORTED else case.response_due_at
    raise_alert(session=session, kind="case.urgent", subject_id=case.id, case=case,
                deadline=deadline, now=now,
                users=staff_covering(session=session, village_code=case.village_code,
                                     roles=(Role.CASEWORKER,)))


def referral_declined(*, session: Session, referral: Referral, deadlines: Deadlines,
                      now: datetime) -> None:
    """A declined referral: the assigned caseworker must find another way, by the SLA."""
    case = referral.case
    raise_alert(session=session, kind="referral.declined", subject_id=referral.id, case=case,
                deadline=_escalation_at(deadlines, case, now), now=now,
                facts={"agency": referral.agency_code, "service": str(referral.service)},
                users=_assignee_or_caseworkers(session, case))


def endpoint_failing(*, session: Session, agency_code: str, since: datetime,
                     now: datetime) -> None:
    """An agency's endpoint given up on: every active admin, once per failing spell."""
    admins = list(session.scalars(select(User).where(User.role == Role.ADMIN, User.active)))
    raise_alert(session=session, kind="endpoint.failing",
                subject_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{agency_code}@{since.isoformat()}"),
                users=admins, facts={"agency": agency_code}, deadline=None, now=now)


def scan(*, session: Session, deadlines: Deadlines, now: datetime) -> None:
    """Alert every deadline missed since LOOKBACK that was not alerted yet."""
    _triage_overdue(session, now)
    _referrals_late(session, deadlines, now)
    _declines_unanswered(session, deadlines, now)


def _triage_overdue(session: Session, now: datetime) -> None:
    cases = session.scalars(select(Case).where(
        Case.status == CaseStatus.REPORTED, Case.triage_due_at <= now,
        Case.triage_due_at > now - LOOKBACK).order_by(Case.triage_due_at))
    for case in cases:
        raise_alert(session=session, kind="case.triage_overdue", subject_id=case.id, case=case,
                    deadline=case.triage_due_at, now=now,
                    users=staff_covering(session=session, village_code=case.village_code,
                                         roles=(Role.CASEWORKER, Role.SUPERVISOR)))


def _referrals_late(session: Session, deadlines: Deadlines, now: datetime) -> None:
    late = session.scalars(select(Referral).where(
        Referral.status == ReferralStatus.PENDING, Referral.due_at <= now,
        Referral.due_at > now - LOOKBACK).order_by(Referral.due_at))
    for referral in late:
        case = referral.case
        facts = {"agency": referral.agency_code, "service": str(referral.service)}
        escalate_at = _escalation_at(deadlines, case, referral.due_at)
        raise_alert(session=session, kind="referral.overdue", subject_id=referral.id,
                    case=case, deadline=referral.due_at, facts=facts, now=now,
                    users=_assignee_or_caseworkers(session, case))
        if now >= escalate_at:
            _escalate(session, referral, escalate_at, facts, now)


def _declines_unanswered(session: Session, deadlines: Deadlines, now: datetime) -> None:
    # a decline stays unanswered while its case is flagged (a new referral clears the flag)
    declined = session.scalars(select(Referral).join(Case, Referral.case_id == Case.id).where(
        Referral.status == ReferralStatus.DECLINED, Case.attention_flagged,
        Case.status != CaseStatus.CLOSED, Referral.updated_at > now - LOOKBACK))
    for referral in declined:
        escalate_at = _escalation_at(deadlines, referral.case, referral.updated_at)
        if now >= escalate_at:
            _escalate(session, referral, escalate_at,
                      {"agency": referral.agency_code, "service": str(referral.service)}, now)


def _escalate(session, referral, deadline, facts, now) -> None:
    case = referral.case
    raise_alert(session=session, kind="referral.escalated", subject_id=referral.id, case=case,
                deadline=deadline, facts=facts, now=now,
                users=staff_covering(session=session, village_code=case.village_code,
                                     roles=(Role.SUPERVISOR,)))


def _escalation_at(deadlines: Deadlines, case: Case, since: datetime) -> datetime:
    """SINCE plus the case's response SLA (a case not yet triaged counts as high risk)."""
    return deadlines.response_due_at(since, case.risk_level or RiskLevel.HIGH, case.emergency)
