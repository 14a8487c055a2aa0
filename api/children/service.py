"""Children and their measurements: recording, WHO assessment, automatic screening."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api.auth.policy import Grant, Scope, in_areas
from api.cases import service as cases
from api.cases.sla import Deadlines
from api.children import growth
from api.children.models import Child, Measurement
from api.crypto import lookup_hash
from api.errors import Forbidden, InvalidInput, NotFound
from api.regions.service import village_exists
from api.vocabularies.codes import Category

STUNTED_BELOW = -2.0
# posyandu weighings are monthly: consecutive ones lie 20 to 45 days apart
MONTHLY = range(20, 46)


def get_child(*, session: Session, grant: Grant, child_id: uuid.UUID) -> Child:
    """The child if GRANT covers it; NotFound otherwise."""
    child = session.get(Child, child_id)
    if child is None or not in_areas(grant.principal, child.village_code):
        raise NotFound("No such child.")
    if grant.scope is Scope.MEASURED_IN_AREA and not child.measurements:
        raise NotFound("No such child.")
    return child


def measurements_of(child: Child) -> Select:
    return (select(Measurement).where(Measurement.child_id == child.id)
            .order_by(Measurement.measured_on, Measurement.created_at))


def record_measurement(*, session: Session, grant: Grant, entry: dict, deadlines: Deadlines,
                       now: datetime) -> Measurement:
    """Store a measurement with its z-scores; open a stunting-risk case when it screens
    positive (haz < -2, or no weight gain twice running: "2T") and none is open."""
    child = _child_of(session=session, grant=grant, entry=entry)
    measured_on = entry["measured_on"]
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
    if measurement.haz < STUNTED_BELOW:
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
    if "child_id" in entry:
        child = session.get(Child, entry["child_id"])
        if child is None or not in_areas(grant.principal, child.village_code):
            raise InvalidInput({"child_id": ["No such child in your areas."]})
        return child
    described = dict(entry["child"])
    if not village_exists(session=session, code=described["village_code"]):
        raise InvalidInput({"child.village_code": ["No kelurahan has this code."]})
    if not in_areas(grant.principal, described["village_code"]):
        raise Forbidden("This kelurahan is outside your areas.")
    known = _known_child(session=session, grant=grant, described=described)
    if known is not None:
        return known
    child = Child(**described)
    session.add(child)
    session.flush()
    return child


def _known_child(*, session: Session, grant: Grant, described: dict) -> Child | None:
    """The child of the caller's areas this description names: the same NIK, or the same
    name, sex, birth date and kelurahan. A NIK whose record disagrees on sex or birth date is
    refused: the z-scores of the wrong child would be worthless, and nobody reaches another
    child's record by typing a number."""
    if described.get("nik"):
        for child in session.scalars(select(Child).where(
                Child.nik_hash == lookup_hash(described["nik"]))):
            if in_areas(grant.principal, child.village_code):
                if (child.sex, child.birth_date) != (described["sex"],
                                                     described["birth_date"]):
                    raise InvalidInput({"child.nik": [
                        "A child with this NIK is recorded with another sex or birth date; "
                        "check the NIK, or ask the caseworker to correct the record."]})
                return child
        return None
    return session.scalar(select(Child).where(
        func.lower(Child.name) == described["name"].lower(), Child.sex == described["sex"],
        Child.birth_date == described["birth_date"],
        Child.village_code == described["village_code"]).limit(1))
