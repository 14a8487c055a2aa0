"""The analysts' monthly releases: each kecamatan's month counted once, published, stored.

A release holds the published cells (stats/disclosure.py) of three cohorts of one kecamatan
and one month of its calendar: the violence cases reported in the month, the stunting-risk
cases reported in the month, and the children measured in the month (each at the month's
latest measurement). Every cell counts a part of one cohort, so no published cell is a sum of
others. Triage figures are as at the release; a case's later life (closure, referrals) is not
released, since a fixed monthly figure cannot follow it (docs/statistics-disclosure.md).

The first analyst to ask for a month that has ended releases it; concurrent first requests
both count, and the release row (INSERT … ON CONFLICT DO NOTHING, in kecamatan and month order,
so two of them wait for each other instead of deadlocking) decides whose cells are stored.
Releases are written before the request's audit event, as every write of a request is.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, insert, select
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.orm import Session

from api.cases.models import Case
from api.children.models import Child, Measurement
from api.regions import calendar
from api.regions.service import within_prefix
from api.stats import columns
from api.stats.disclosure import Months, next_month, published_cohort
from api.stats.models import StatisticsRelease, StatisticsReleaseCell
from api.vocabularies.codes import Category, ViolenceType

VIOLENCE_CASES = "violence.cases"
VIOLENCE_FORMS = tuple(f"violence.type.{kind.value}" for kind in ViolenceType)
STUNTING_RISK_CASES = "stunting_risk.cases"
TRIAGE_ON_TIME = {Category.VIOLENCE: "violence.triage_on_time",
                  Category.STUNTING_RISK: "stunting_risk.triage_on_time"}
TRIAGE_LATE = {Category.VIOLENCE: "violence.triage_late",
               Category.STUNTING_RISK: "stunting_risk.triage_late"}
CASES = {Category.VIOLENCE: VIOLENCE_CASES, Category.STUNTING_RISK: STUNTING_RISK_CASES}
MEASURED = "nutrition.measured"
# (children with the z-score, children below -2 on it) — WHO: a share is of valid z-scores
NUTRITION = {"stunted": ("nutrition.with_haz", "nutrition.stunted"),
             "wasted": ("nutrition.with_whz", "nutrition.wasted"),
             "underweight": ("nutrition.with_waz", "nutrition.underweight")}


@dataclass(frozen=True)
class Cell:
    """One published value: a measure of a kecamatan's month (a multiple of 5)."""

    district_code: str
    month: date
    measure: str
    value: int


def released_cells(*, session: Session, area_code: str, district_codes: list[str],
                   months: Months, now: datetime) -> list[Cell]:
    """The published cells of DISTRICT_CODES (the kecamatan of AREA_CODE) in MONTHS, ended
    months all; a month not yet released is released first, as at NOW."""
    pending = _unreleased(session, district_codes, months)
    if pending:
        _release(session, area_code=area_code, pending=pending, now=now)
    rows = session.execute(
        select(StatisticsReleaseCell.district_code, StatisticsReleaseCell.month,
               StatisticsReleaseCell.measure, StatisticsReleaseCell.value)
        .where(StatisticsReleaseCell.district_code.in_(district_codes),
               StatisticsReleaseCell.month >= months.first,
               StatisticsReleaseCell.month <= months.last))
    return [Cell(*row) for row in rows]


def _unreleased(session: Session, district_codes: list[str], months: Months
                ) -> list[tuple[str, date]]:
    released = {(code, month) for code, month in session.execute(
        select(StatisticsRelease.district_code, StatisticsRelease.month)
        .where(StatisticsRelease.district_code.in_(district_codes),
               StatisticsRelease.month >= months.first,
               StatisticsRelease.month <= months.last))}
    return sorted((code, month) for code in district_codes for month in months
                  if (code, month) not in released)


def _release(session: Session, *, area_code: str, pending: list[tuple[str, date]],
             now: datetime) -> None:
    """Count, publish and store the cohorts of the PENDING kecamatan months."""
    span = Months(min(month for _, month in pending), max(month for _, month in pending))
    postgresql = session.get_bind().dialect.name == "postgresql"
    counted = _case_counts(session, area_code=area_code, span=span, now=now,
                           zone=calendar.zone_of(area_code), postgresql=postgresql)
    for key, counts in _nutrition_counts(session, area_code=area_code, span=span,
                                         postgresql=postgresql).items():
        counted[key].update(counts)
    claimed = _claim(session, pending, now=now, postgresql=postgresql)
    cells = [{"district_code": code, "month": month, "measure": measure, "value": value}
             for code, month in sorted(claimed)
             for measure, value in _published(counted.get((code, month), {})).items() if value]
    if cells:
        session.execute(insert(StatisticsReleaseCell), cells)


def _claim(session: Session, pending, *, now: datetime, postgresql: bool) -> set:
    """Insert the release rows of PENDING; the ones another request released meanwhile are
    left as they are. Returns the (kecamatan, month) pairs this request releases."""
    dialect_insert = postgresql_dialect.insert if postgresql else sqlite_dialect.insert
    statement = (
        dialect_insert(StatisticsRelease)
        .values([{"district_code": code, "month": month, "released_at": now}
                 for code, month in pending])
        .on_conflict_do_nothing()
        .returning(StatisticsRelease.district_code, StatisticsRelease.month))
    return {(code, month) for code, month in session.execute(statement)}


def _published(counts: dict[str, int]) -> dict[str, int]:
    """The published cells of one kecamatan month from its raw counts, cohort by cohort."""
    def cohort(names):
        return {name: counts.get(name, 0) for name in names}

    violence = cohort((VIOLENCE_CASES, TRIAGE_ON_TIME[Category.VIOLENCE],
                       TRIAGE_LATE[Category.VIOLENCE], *VIOLENCE_FORMS))
    stunting = cohort((STUNTING_RISK_CASES, TRIAGE_ON_TIME[Category.STUNTING_RISK],
                       TRIAGE_LATE[Category.STUNTING_RISK]))
    measured = cohort((MEASURED, *(name for pair in NUTRITION.values() for name in pair)))
    return {**published_cohort(violence, forms=VIOLENCE_FORMS), **published_cohort(stunting),
            **published_cohort(measured)}


def _case_counts(session: Session, *, area_code: str, span: Months, now: datetime,
                 zone: ZoneInfo, postgresql: bool) -> defaultdict:
    """Raw counts of the cases reported in SPAN per (kecamatan, month), triage as at NOW."""
    start = calendar.day_start(span.first, zone=zone)
    end = calendar.day_start(next_month(span.last), zone=zone)
    district = columns.district_of(Case.village_code)
    month = columns.month_of(Case.created_at, zone=zone, postgresql=postgresql, at=start)
    late = case((Case.triaged_at.is_(None), Case.triage_due_at <= now),
                else_=Case.triaged_at > Case.triage_due_at)
    forms = [func.count().filter(columns.has_violence_type(kind, postgresql=postgresql))
             for kind in ViolenceType]
    counted: defaultdict = defaultdict(dict)
    for code, month_value, category, number, on_time, too_late, *by_form in session.execute(
            select(district, month, Case.category, func.count(),
                   func.count().filter(Case.triaged_at <= Case.triage_due_at),
                   func.count().filter(late), *forms)
            .where(within_prefix(Case.village_code, area_code), Case.created_at >= start,
                   Case.created_at < end)
            .group_by(district, month, Case.category)):
        counts = counted[(code, columns.month_start(month_value))]
        counts.update({CASES[category]: number, TRIAGE_ON_TIME[category]: on_time,
                       TRIAGE_LATE[category]: too_late})
        if category is Category.VIOLENCE:
            counts.update(zip(VIOLENCE_FORMS, by_form, strict=True))
    return counted


def _nutrition_counts(session: Session, *, area_code: str, span: Months, postgresql: bool
                      ) -> dict:
    """Raw counts of the children measured in SPAN per (kecamatan, month), each at its
    latest measurement of the month (measured_on is a day of the kelurahan's calendar)."""
    month = columns.month_of_day(Measurement.measured_on, postgresql=postgresql)
    ranked = (
        select(columns.district_of(Child.village_code).label("district"),
               month.label("month"), Measurement.haz, Measurement.waz, Measurement.whz,
               func.row_number().over(
                   partition_by=(Measurement.child_id, month),
                   order_by=(Measurement.measured_on.desc(), Measurement.created_at.desc()),
               ).label("rank"))
        .join(Child, Child.id == Measurement.child_id)
        .where(within_prefix(Child.village_code, area_code),
               Measurement.measured_on >= span.first,
               Measurement.measured_on < next_month(span.last))
        .subquery())
    # a share is of the children with a valid z: whz is missing outside 45-120 cm, and a z
    # WHO flags as implausible is missing too (children/growth.py)
    figures = {MEASURED: func.count()}
    for column, (with_score, below) in zip((ranked.c.haz, ranked.c.whz, ranked.c.waz),
                                           NUTRITION.values(), strict=True):
        figures[with_score] = func.count(column)
        figures[below] = func.count().filter(column < -2)
    return {(code, columns.month_start(month_value)): dict(zip(figures, counts, strict=True))
            for code, month_value, *counts in session.execute(
                select(ranked.c.district, ranked.c.month, *figures.values())
                .where(ranked.c.rank == 1).group_by(ranked.c.district, ranked.c.month))}
