"""Routing cases to agencies, and the life of each referral."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from api.agencies.models import Agency
from api.agencies.service import offers
from api.auth.policy import Grant, Scope
from api.cases import timeline, workflow
from api.cases.models import Case
from api.cases.service import visible_to as cases_visible_to
from api.cases.sla import Deadlines
from api.db import one_for
from api.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    PreconditionFailed,
    changed_since_read,
)
from api.outbox import alerts
from api.outbox import service as outbox
from api.referrals import feed, routing
from api.referrals.models import Referral, RoutingRule
from api.referrals.workflow import Side, check_move
from api.regions import calendar
from api.regions import codes as region_codes
from api.regions.models import Region
from api.regions.service import within_areas
from api.vocabularies.codes import ReferralStatus, RegionLevel, Service


@dataclass(frozen=True)
class PlanItem:
    """One proposed referral, and whether an open one exists already."""

    proposal: routing.ProposedReferral
    existing: Referral | None


# ---------- routing rules ----------

def current_rules(*, session: Session, city_code: str) -> list[RoutingRule]:
    """The routing rules of CITY_CODE, in the order they apply."""
    return list(session.scalars(select(RoutingRule).where(RoutingRule.city_code == city_code)
                                .order_by(RoutingRule.position)))


def rules_for_change(*, session: Session, city_code: str) -> list[RoutingRule]:
    """The routing rules of CITY_CODE, read after taking the lock replace_rules takes (the
    agencies' rows; lock order: db.py), for a caller that compares them with the version it
    showed before replacing them: a second replacement waits for the first to commit and
    then reads its rules, so it cannot pass the same comparison."""
    _locked_agencies(session)
    return current_rules(session=session, city_code=city_code)


def only_city(*, grant: Grant) -> str:
    """The one city the caller's areas lie in; InvalidInput when there is not exactly one
    (areas in two cities, or a whole province), so the caller must name the city."""
    cities = {region_codes.city_of(area) for area in grant.principal.area_codes}
    if len(cities) == 1 and region_codes.level_of(next(iter(cities))) is RegionLevel.CITY:
        return cities.pop()
    raise InvalidInput({"city": ["Name the city: your areas do not lie in exactly one city."]})


def check_rules_city(*, session: Session, grant: Grant, city_code: str) -> None:
    """InvalidInput when no city has CITY_CODE; Forbidden unless one of the caller's areas
    lies in that city or covers it (the rules route every case of the city)."""
    city = session.get(Region, city_code)
    if city is None or city.level is not RegionLevel.CITY:
        raise InvalidInput({"city": ["No city has this code."]})
    if not any(city_code.startswith(area) or area.startswith(city_code)
               for area in grant.principal.area_codes):
        raise Forbidden("This city is outside your areas.")


def replace_rules(*, session: Session, city_code: str, rules: list[dict]) -> list[RoutingRule]:
    """Validate a whole rule set against the agencies, then replace the stored set of
    CITY_CODE with it; the other cities' sets stay as they are.

    The agencies' rows are locked first (lock order: db.py), so no agency can stop offering a
    service between this check and the commit; agencies.service.change_agency takes the same
    lock before it checks the rules.
    """
    agencies = _locked_agencies(session)
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        if rule["id"] in seen:
            errors[f"{index}.id"] = [f"The id {rule['id']} appears twice."]
        seen.add(rule["id"])
        agency = agencies.get(rule["agency_code"])
        if agency is None:
            errors[f"{index}.agency"] = [f"No agency has the code {rule['agency_code']}."]
        elif not offers(agency, rule["service"].value):
            errors[f"{index}.service"] = [f"{agency.code} does not offer {rule['service'].value}."]
    if errors:
        raise InvalidInput(errors)
    session.execute(delete(RoutingRule).where(RoutingRule.city_code == city_code))
    stored = [RoutingRule(city_code=city_code, position=index, **rule)
              for index, rule in enumerate(rules)]
    session.add_all(stored)
    session.flush()
    return stored


def give_default_rules(*, session: Session, city_codes: list[str]) -> list[str]:
    """Give each city of CITY_CODES that has no rules a stored copy of the default set
    (routing.default_rules), for its supervisors to edit; the cities given one.

    A default rule whose agency no longer offers its service is left out, as it would be
    refused in a supervisor's set. The agencies are locked first, as replace_rules does.
    """
    if not city_codes:
        return []
    agencies = _locked_agencies(session)
    having = set(session.scalars(select(RoutingRule.city_code).distinct()
                                 .where(RoutingRule.city_code.in_(city_codes))))
    cities = sorted(set(city_codes) - having)
    served = [rule for rule in routing.default_rules()
              if rule["agency"] in agencies and offers(agencies[rule["agency"]], rule["service"])]
    session.add_all(
        RoutingRule(city_code=city, id=rule["id"], position=index,
                    description=rule["description"], when=rule["when"],
                    agency_code=rule["agency"], service=Service(rule["service"]),
                    due_in_hours=rule["due_in_hours"])
        for city in cities for index, rule in enumerate(served))
    session.flush()
    return cities


def _locked_agencies(session: Session) -> dict[str, Agency]:
    return {a.code: a for a in session.scalars(
        select(Agency).order_by(Agency.code).with_for_update(key_share=True)
        .execution_options(populate_existing=True))}


# ---------- the plan and routing ----------

def plan_for(*, session: Session, case: Case, now: datetime) -> list[PlanItem]:
    """What the rules of CASE's city propose for it, each with the open referral it would
    duplicate."""
    facts = routing.CaseFacts.of(case, calendar.local_day(now, case.village_code))
    open_by_service = {(r.agency_code, str(r.service)): r for r in case.referrals if r.is_open}
    rules = current_rules(session=session, city_code=region_codes.city_of(case.village_code))
    return [PlanItem(p, open_by_service.get((p.agency, p.service)))
            for p in routing.routing_plan(rules, facts)]


def _check_offers(*, session: Session, plan: list[PlanItem]) -> None:
    agencies = {a.code: a for a in session.scalars(select(Agency))}
    for item in plan:
        agency = agencies.get(item.proposal.agency)
        if agency is None or not offers(agency, item.proposal.service):
            raise Conflict(f"Rule {item.proposal.rule_id} refers to {item.proposal.service} at "
                           f"{item.proposal.agency}, which does not offer it; a supervisor "
                           "must correct the routing rules.")


def route_case(*, session: Session, grant: Grant, case: Case, now: datetime) -> list[Referral]:
    """Create the plan's referrals that are not open already; the case becomes referred."""
    workflow.after_referral_created(case.status)  # refuse early: nothing to route yet
    plan = plan_for(session=session, case=case, now=now)
    _check_offers(session=session, plan=plan)
    if not plan and not any(r.is_open for r in case.referrals):
        # a case routed nowhere would look served while nobody serves it
        raise Conflict("The routing rules propose no referral for this case: refer it by hand.")
    created = [
        _open_referral(session=session, grant=grant, case=case, agency=item.proposal.agency,
                       service=item.proposal.service, rule_id=item.proposal.rule_id,
                       due_in=timedelta(hours=item.proposal.due_in_hours), note=None, now=now)
        for item in plan if item.existing is None
    ]
    _case_referred(session=session, grant=grant, case=case, now=now, kind="routed",
                   details={"created": len(created)}, acted=bool(created))
    return created


def refer_by_hand(*, session: Session, grant: Grant, case: Case, agency_code: str, service,
                  note: str | None, due_in_hours: int, now: datetime) -> Referral:
    """A referral the caseworker chose, outside the rules."""
    workflow.after_referral_created(case.status)
    agency = session.get(Agency, agency_code)
    if agency is None:
        raise InvalidInput({"agency": ["No agency has this code."]})
    if not offers(agency, service.value):
        raise InvalidInput({"service": [f"{agency.code} does not offer {service.value}."]})
    if any(r.is_open and r.agency_code == agency.code and r.service == service
           for r in case.referrals):
        raise Conflict(f"An open referral to {agency.code} for {service.value} exists already.")
    referral = _open_referral(session=session, grant=grant, case=case, agency=agency.code,
                              service=service.value, rule_id=None,
                              due_in=timedelta(hours=due_in_hours), note=note, now=now)
    _case_referred(session=session, grant=grant, case=case, now=now, kind="referred_by_hand",
                   details={"agency": agency.code, "service": service.value}, acted=True)
    return referral


def _open_referral(*, session, grant, case, agency, service, rule_id, due_in, note, now):
    referral = Referral(
        id=uuid.uuid4(), case=case, agency_code=agency, service=Service(service), rule_id=rule_id,
        note=note, due_at=now + due_in, created_by=grant.principal.user_id, created_at=now,
        updated_at=now, sync_seq=feed.next_position(session),
    )
    session.add(referral)
    try:
        session.flush()
    except IntegrityError:
        # the unique index on open referrals: someone routed this case at the same moment
        raise PreconditionFailed(changed_since_read("case")) from None
    timeline.record(session=session, case=case, kind="referral_created", actor=grant.principal,
                    at=now, referral_id=referral.id, note=note,
                    details={"agency": agency, "service": service, "rule": rule_id})
    outbox.record_referral_event(session=session, kind="referral.created", referral=referral,
                                 now=now)
    return referral


def _case_referred(*, session, grant, case, now, kind, details, acted: bool):
    previous = case.status
    case.status = workflow.after_referral_created(previous)
    if acted:  # a new referral answers a decline or a late one
        case.attention_flagged = False
    case.updated_at = now
    timeline.record(session=session, case=case, kind=kind, actor=grant.principal, at=now,
                    from_status=previous, to_status=case.status, details=details)
    _flush(session, changed_since_read("case"))


# ---------- reading referrals ----------

def visible_to(grant: Grant):
    """SQL condition: the referrals GRANT covers."""
    if grant.scope is Scope.AGENCY:
        addressed = Referral.agency_code == grant.principal.agency_code
        if not grant.principal.area_codes:
            return addressed  # the agency serves every city of the deployment
        return addressed & Referral.case_id.in_(select(Case.id).where(
            within_areas(Case.village_code, grant.principal.area_codes)))
    if grant.scope is Scope.AREA:
        return Referral.case_id.in_(select(Case.id).where(cases_visible_to(grant)))
    raise AssertionError(f"no referral scope for {grant.scope}")


def list_referrals(*, grant: Grant, filters: dict, after_seq: int, limit: int,
                   now: datetime) -> Select:
    """The caller's referrals in change-feed order, after AFTER_SEQ."""
    query = select(Referral).where(visible_to(grant), Referral.sync_seq > after_seq)
    if "case_id" in filters:
        query = query.where(Referral.case_id == filters["case_id"])
    if "agency" in filters:
        query = query.where(Referral.agency_code == filters["agency"])
    if "status" in filters:
        query = query.where(Referral.status == filters["status"])
    if "updated_after" in filters:
        query = query.where(Referral.updated_at > filters["updated_after"])
    if "overdue" in filters:
        late = (Referral.status == ReferralStatus.PENDING) & (Referral.due_at <= now)
        query = query.where(late if filters["overdue"] else ~late)
    return query.order_by(Referral.sync_seq).limit(limit)


def get_referral(*, session: Session, grant: Grant, referral_id: uuid.UUID,
                 for_update: bool = False) -> Referral:
    """The referral if GRANT covers it; NotFound otherwise.

    FOR_UPDATE locks, in the one lock order (db.py), its case's row and then the case's
    referrals, and reloads them: a racing writer of the case (a caseworker's correction, an
    agency acting on a sibling referral) is waited for, never deadlocked with.
    """
    referral = one_for(session, select(Referral).where(Referral.id == referral_id,
                                                       visible_to(grant)),
                       entity=Referral, for_update=False, missing="No such referral.")
    if for_update:
        _lock_case(session, referral.case)
    return referral


# the agency's board: each status a column, the most urgent first; finished work newest first
BOARD_COLUMNS = (ReferralStatus.PENDING, ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS,
                 ReferralStatus.COMPLETED)


def board_column(*, grant: Grant, status: ReferralStatus) -> Select:
    """One column of an agency's referral board: the referrals GRANT covers in STATUS, open
    ones by acceptance due time (soonest first), completed ones by their last change (newest
    first: a completed referral's feed position, which no later change moves); ordered for
    keyset paging (api/paging.py), the last key unique."""
    query = select(Referral).where(visible_to(grant), Referral.status == status)
    if status is ReferralStatus.COMPLETED:
        return query.order_by(Referral.sync_seq.desc())
    return query.order_by(Referral.due_at, Referral.id)


# ---------- moving a referral ----------

def move_referral(*, session: Session, grant: Grant, referral: Referral, move: dict,
                  now: datetime, deadlines: Deadlines | None = None) -> Referral:
    """Accept, decline, start, complete (the agency) or cancel (the case side); the agency
    is told (referral.updated), and a decline alerts the case's caseworker (DEADLINES:
    the response SLAs, by default the city's)."""
    side = Side.AGENCY if grant.scope is Scope.AGENCY else Side.CASE
    target = move["to"]
    check_move(referral.status, target, side, reason=move.get("reason"),
               outcome=move.get("outcome"))
    previous = referral.status
    referral.status = target
    if move.get("reason"):
        referral.reason = move["reason"]
    if move.get("outcome"):
        referral.outcome = move["outcome"]
    if move.get("external_reference"):
        referral.external_reference = move["external_reference"]
    referral.updated_at = now
    if target is ReferralStatus.ACCEPTED:
        referral.accepted_at = now
        if referral.case.first_accepted_at is None:
            referral.case.first_accepted_at = now
    referral.sync_seq = feed.next_position(session)
    case = referral.case
    timeline.record(session=session, case=case, kind=f"referral_{target.value}",
                    actor=grant.principal, at=now, referral_id=referral.id,
                    note=move.get("note"),
                    details={"agency": referral.agency_code, "service": str(referral.service),
                             "from": previous.value, "to": target.value,
                             **{name: move[name] for name in
                                ("reason", "outcome", "external_reference") if move.get(name)}})
    _case_follows(session=session, grant=grant, case=case, declined=target is
                  ReferralStatus.DECLINED, now=now)
    _flush(session, changed_since_read("referral"))
    outbox.record_referral_event(session=session, kind="referral.updated", referral=referral,
                                 now=now)
    if target is ReferralStatus.DECLINED:
        alerts.referral_declined(session=session, referral=referral,
                                 deadlines=deadlines or Deadlines(), now=now)
    return referral


def _lock_case(session: Session, case: Case) -> None:
    """Lock the case's row, then its referrals' (lock order: db.py), and reload them: the
    case follows its referrals from their latest state."""
    session.scalars(select(Case).where(Case.id == case.id).with_for_update(of=Case, key_share=True)
                    .execution_options(populate_existing=True)).all()
    session.scalars(select(Referral).where(Referral.case_id == case.id)
                    .order_by(Referral.id).with_for_update(of=Referral, key_share=True)
                    .execution_options(populate_existing=True)).all()


def _case_follows(*, session, grant, case, declined: bool, now):
    """First acceptance → in service; all done → monitoring; a decline → needs attention."""
    previous = case.status
    following = workflow.following_referrals(previous, [r.status for r in case.referrals])
    if following is previous and not declined:
        return
    case.status = following
    case.attention_flagged = case.attention_flagged or declined
    case.updated_at = now
    if following is not previous:
        timeline.record(session=session, case=case, kind="status_changed", actor=grant.principal,
                        at=now, from_status=previous, to_status=following,
                        details={"because": "referrals"})


def _flush(session: Session, stale_message: str) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise PreconditionFailed(stale_message) from None
