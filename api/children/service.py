"""Children and their measurements: recording, WHO assessment, automatic screening."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from api.auth.policy import Grant, Operation, Scope, decide, in_areas
from api.cases import service as cases
from api.cases.sla import Deadlines
from api.children import growth, names
from api.children.models import Child, Measurement
from api.crypto import lookup_hash
from api.errors import Forbidden, InvalidInput, NotFound
from api.regions import calendar
from api.regions import codes as region_codes
from api.regions.service import village_exists, within_areas, within_prefix
from api.vocabularies.codes import Category

STUNTED_BELOW = -2.0
MATCHES_SHOWN = 20
# posyandu weighings are monthly: consecutive ones lie 20 to 45 days apart
MONTHLY = range(20, 46)


def get_child(*, session: Session, grant: Grant, child_id: uuid.UUID) -> Child:
    """The child if GRANT may read it (see `readable`); NotFound otherwise."""
    child = session.scalar(readable(grant, select(Child).where(Child.id == child_id)))
    if child is None:
        raise NotFound("No such child.")
    return child


def measurements_of(child: Child) -> Select:
    return (select(Measurement).where(Measurement.child_id == child.id)
            .order_by(Measurement.measured_on, Measurement.created_at, Measurement.id))


def record_measurement(*, session: Session, grant: Grant, entry: dict, deadlines: Deadlines,
                       now: datetime) -> Measurement:
    """Store a measurement with its z-scores and WHO flags (a flagged z-score is None); open a
    stunting-risk case when it screens positive (haz < -2, or no weight gain twice running:
    "2T") and none is open."""
    child = _child_of(session=session, grant=grant, entry=entry)
    measured_on = entry["measured_on"]
    # in the calendar of the child's kelurahan; both days named at once
    described = {"child.birth_date": entry["child"]["birth_date"]} if "child" in entry else {}
    if problems := calendar.not_in_future_problems(child.village_code, measured_on=measured_on,
                                                   **described):
        raise InvalidInput(problems)
    if measured_on < child.birth_date:
        raise InvalidInput({"measured_on": ["Must not be before the child's birth date."]})
    try:
        assessment = growth.assess(
            sex=child.sex.value, age_days=(measured_on - child.birth_date).days,
            weight_kg=entry["weight_kg"], length_cm=entry["height_cm"],
            position=growth.Position(entry["position"]))
    except growth.ImplausibleMeasurement as refused:
        raise InvalidInput({refused.field: [refused.message]}) from None
    measurement = Measurement(
        id=uuid.uuid4(), child_id=child.id, measured_on=measured_on,
        age_days=assessment.age_days, weight_kg=entry["weight_kg"],
        height_cm=entry["height_cm"], position=growth.Position(entry["position"]),
        muac_cm=entry.get("muac_cm"), haz=assessment.haz, waz=assessment.waz,
        whz=assessment.whz, haz_category=assessment.haz_category,
        waz_category=assessment.waz_category, whz_category=assessment.whz_category,
        flags=[flag.value for flag in assessment.flags],
        recorded_by=grant.principal.user_id, created_at=now,
    )
    session.add(measurement)
    session.flush()
    reason = _screening_reason(session=session, child=child, measurement=measurement)
    if reason:
        case = cases.open_case_of(session=session, child=child, category=Category.STUNTING_RISK)
        if case is None:
            case = cases.open_screening_case(session=session, principal=grant.principal,
                                             child=child, reason=reason, deadlines=deadlines,
                                             now=now)
        measurement.case_id = case.id
        session.flush()
    session.expire(child, ["measurements"])
    return measurement


def _screening_reason(*, session: Session, child: Child, measurement: Measurement) -> str | None:
    # a haz WHO flags as implausible is None: it screens nothing, the 2T rule still applies
    if measurement.haz is not None and measurement.haz < STUNTED_BELOW:
        return (f"Posyandu screening: length/height-for-age z = {measurement.haz} "
                f"({measurement.haz_category.value}) on {measurement.measured_on}.")
    if _not_gaining_twice(session=session, child=child, measurement=measurement):
        return (f"Posyandu screening: no weight gain in two consecutive monthly "
                f"weighings (2T), last on {measurement.measured_on}.")
    return None


def _not_gaining_twice(*, session: Session, child: Child, measurement: Measurement) -> bool:
    """2T: two consecutive monthly weighings without gain, among the three consecutive
    weighings that include this one (it may be entered late). A re-weighing on the same day
    replaces the earlier one."""
    nearby = session.scalars(
        select(Measurement).where(
            Measurement.child_id == child.id,
            Measurement.measured_on.between(measurement.measured_on - timedelta(days=100),
                                            measurement.measured_on + timedelta(days=100)))
        .order_by(Measurement.measured_on, Measurement.created_at)).all()
    by_day = list({m.measured_on: m for m in nearby}.values())  # the day's last weighing
    here = next(i for i, m in enumerate(by_day) if m.measured_on == measurement.measured_on)
    for start in range(max(0, here - 2), here + 1):
        window = by_day[start:start + 3]
        if len(window) == 3 and all(
                (later.measured_on - before.measured_on).days in MONTHLY
                and later.weight_kg <= before.weight_kg
                for before, later in zip(window, window[1:], strict=False)):
            return True
    return False


def _child_of(*, session: Session, grant: Grant, entry: dict) -> Child:
    """The measured child: one the caller can read (named by id, or described again), or a
    new record. A known child's row is locked (lock order: db.py), so two weighings of one
    child at the same moment see each other's stunting-risk case."""
    # whom the caller may weigh is whom the caller may read (auth/policy.py)
    reading = decide(grant.principal, Operation.CHILD_READ)
    if "child_id" in entry:
        child = session.scalar(readable(reading, select(Child).where(
            Child.id == entry["child_id"])))
        if child is None:
            raise InvalidInput({"child_id": ["No such child in your areas."]})
        return _locked(session, child)
    described = dict(entry["child"])
    if not village_exists(session=session, code=described["village_code"]):
        raise InvalidInput({"child.village_code": ["No kelurahan has this code."]})
    if not in_areas(grant.principal, described["village_code"]):
        raise Forbidden("This kelurahan is outside your areas.")
    known = _known_child(session=session, reading=reading, described=described)
    if known is not None:
        return _locked(session, known)
    child = Child(**described)
    session.add(child)
    session.flush()
    return child


def _known_child(*, session: Session, reading: Grant, described: dict) -> Child | None:
    """The child the caller can read that this description names: the same NIK, or the
    same name (as compared: children/names.py), sex, birth date and kelurahan.

    Only records the caller may read are matched, so no answer depends on a record the
    caller cannot see (a cadre reads only children weighed in their areas): a NIK on file
    elsewhere gives a new record with the same NIK, which caseworkers see beside the other
    as a possible match (`possible_matches`) and reconcile. A NIK the caller can read whose
    record disagrees on sex or birth date is refused: the z-scores of the wrong child would
    be worthless."""
    if described.get("nik"):
        child = session.scalar(readable(reading, select(Child).where(
            Child.nik_hash == lookup_hash(described["nik"]))).order_by(Child.created_at).limit(1))
        if child is not None and (child.sex, child.birth_date) != (described["sex"],
                                                                  described["birth_date"]):
            raise InvalidInput({"child.nik": [
                "A child with this NIK is recorded with another sex or birth date; "
                "check the NIK, or ask the caseworker to correct the record."]})
        return child
    return session.scalar(readable(reading, select(Child).where(
        Child.name_key == names.name_key(described["name"]), Child.sex == described["sex"],
        Child.birth_date == described["birth_date"],
        Child.village_code == described["village_code"])).order_by(Child.created_at).limit(1))


def readable(grant: Grant, query: Select) -> Select:
    """QUERY narrowed to the children GRANT may read: those of the caller's areas, and for
    cadres only the children weighed there (auth/policy.py: Scope.MEASURED_IN_AREA)."""
    query = query.where(within_areas(Child.village_code, grant.principal.area_codes))
    if grant.scope is Scope.MEASURED_IN_AREA:
        query = query.where(select(Measurement.id).where(
            Measurement.child_id == Child.id).exists())
    return query


def possible_matches(*, session: Session, child: Child) -> list[tuple[Child, str]]:
    """Other records that may be this child, each with why: the same NIK ("same_nik"), or
    the same name as compared, birth date and kelurahan ("same_name_birth_date_and_village").
    Caseworkers reconcile them; no link leaves the city."""
    same_nik = (Child.nik_hash == child.nik_hash) if child.nik_hash else false()
    same_description = ((Child.name_key == child.name_key)
                        & (Child.birth_date == child.birth_date)
                        & (Child.village_code == child.village_code))
    found = session.execute(select(Child, same_nik).where(
        same_nik | same_description, Child.id != child.id,
        within_prefix(Child.village_code, region_codes.city_of(child.village_code)))
        .order_by(Child.created_at).limit(MATCHES_SHOWN)).all()
    return [(other, "same_nik" if by_nik else "same_name_birth_date_and_village")
            for other, by_nik in found]


def _locked(session: Session, child: Child) -> Child:
    """CHILD, its row locked until the transaction ends and reloaded."""
    session.scalars(select(Child).where(Child.id == child.id).with_for_update(key_share=True)
                    .execution_options(populate_existing=True)).all()
    return child
