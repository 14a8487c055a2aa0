"""Children and their measurements: recording, WHO assessment, automatic screening."""

import uuid
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.auth.policy import Grant, in_areas
from api.cases import service as cases
from api.cases.sla import Deadlines
from api.children import growth
from api.children.models import Child, Measurement
from api.errors import InvalidInput, NotFound
from api.regions.service import village_exists
from api.vocabularies.codes import Category

STUNTED_BELOW = -2.0
# posyandu weighings are monthly: consecutive ones lie 20 to 45 days apart
MONTHLY = range(20, 46)


def get_child(*, session: Session, grant: Grant, child_id: uuid.UUID) -> Child:
    """The child if it lives in the caller's areas; NotFound otherwise."""
    child = session.get(Child, child_id)
    if child is None or not in_areas(grant.principal, child.village_code):
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
    """2T: this weighing and the one before each show no gain over the previous month."""
    earlier = session.scalars(
        select(Measurement).where(Measurement.child_id == child.id,
                                  Measurement.measured_on < measurement.measured_on)
        .order_by(Measurement.measured_on.desc()).limit(2)).all()
    if len(earlier) < 2:
        return False
    sequence = [earlier[1], earlier[0], measurement]
    monthly = all((later.measured_on - before.measured_on).days in MONTHLY
                  for before, later in zip(sequence, sequence[1:], strict=False))
    no_gain = all(later.weight_kg <= before.weight_kg
                  for before, later in zip(sequence, sequence[1:], strict=False))
    return monthly and no_gain


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
        raise InvalidInput({"child.village_code": ["This kelurahan is outside your areas."]})
    if described.get("nik"):
        for known in session.scalars(select(Child).where(Child.nik == described["nik"])):
            if in_areas(grant.principal, known.village_code):
                return known  # one child, one record per area
    child = Child(**described)
    session.add(child)
    session.flush()
    return child


def is_under_five(birth_date: date, on: date) -> bool:
    return 0 <= (on - birth_date).days <= growth.LAST_DAY
