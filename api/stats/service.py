"""KLA statistics computed by SQL aggregates over an area and a period (DESIGN §6).

Counts are of cases reported in the period (from the start of FROM to the end of TO), and of
the referrals of those cases, except `open_cases` (reported up to TO and not closed now),
`closed_by_reason` (closed in the period), `overdue_referrals` (pending past their due time
now) and `days_since_last_violence_case` (from the last violence report up to TO to the end
of TO). Days and months are those of the city's calendar (LINDUNG_TIMEZONE, WITA by
default). The cases of a period are read once, grouped by kelurahan and month, from a
covering index (ix_cases_kla); everything else is a grouped query on its own index.

Analysts get other figures: sums of the published cells of fixed monthly releases
(analyst_statistics; stats/disclosure.py, docs/statistics-disclosure.md).
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from api.cases.models import Case
from api.children.models import Child, Measurement
from api.errors import Forbidden, InvalidInput
from api.referrals.models import Referral
from api.regions import calendar
from api.regions import codes as region_codes
from api.regions.models import Region
from api.regions.service import within_prefix
from api.stats import columns, publication, release
from api.stats.disclosure import Months
from api.vocabularies.codes import (
    CaseStatus,
    Category,
    ClosureReason,
    ReferralStatus,
    RegionLevel,
    ViolenceType,
)

SECONDS_PER_DAY = 86400.0
OPEN_STATUSES = [status for status in CaseStatus if status is not CaseStatus.CLOSED]


@dataclass(frozen=True)
class Period:
    """Whole days in the area's calendar (regions/calendar.py: Kalimantan's cities keep WITA,
    UTC+8)."""

    first_day: date
    last_day: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        """The first instant of the period (UTC)."""
        return calendar.day_start(self.first_day, zone=self.zone)

    @property
    def end(self) -> datetime:
        """The first instant after the period (UTC)."""
        return calendar.day_start(self.last_day + timedelta(days=1), zone=self.zone)


@dataclass(frozen=True)
class Scope:
    """The area and period every query of one answer is about."""

    session: Session
    area: Region
    period: Period
    now: datetime

    @property
    def postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def cases_in_area(self):
        return within_prefix(Case.village_code, self.area.code)

    def cases_in_period(self):
        return and_(self.cases_in_area(), Case.created_at >= self.period.start,
                    Case.created_at < self.period.end)


def area_for(*, session: Session, grant, code: str) -> Region:
    """The region asked for, if it lies in the caller's areas (any, for callers with none)."""
    area = session.get(Region, code)
    if area is None:
        raise InvalidInput({"area": ["No region has this code."]})
    if grant.principal.area_codes and not covers(grant.principal.area_codes, area.code):
        raise Forbidden("This area is outside your areas.")
    return area


def period_of(*, first_day: date | None, last_day: date | None, zone: ZoneInfo,
              today: date) -> Period:
    """FROM-TO in the city's calendar; by default this year so far. Never in the future."""
    period = Period(first_day or date(today.year, 1, 1), last_day or today, zone)
    if period.last_day > today:
        raise InvalidInput({"to": ["Must not be in the future."]})
    if period.first_day > period.last_day:
        raise InvalidInput({"from": ["Must not be after to."]})
    return period


def analyst_statistics(*, session: Session, area: Region, months: Months, now: datetime
                       ) -> dict:
    """The KLA statistics of AREA (a kecamatan or larger) in MONTHS (ended months) as analysts
    see them: the released cells of its kecamatan, releasing any month not yet released."""
    kecamatan = [(code, name) for code, name in session.execute(
        select(Region.code, Region.name)
        .where(Region.level == RegionLevel.DISTRICT,
               Region.code.startswith(area.code, autoescape=True))
        .order_by(Region.code))]
    cells = release.released_cells(session=session, area_code=area.code,
                                   district_codes=[code for code, _ in kecamatan],
                                   months=months, now=now)
    return publication.analyst_figures(area=area, months=months, kecamatan=kecamatan,
                                       cells=cells)


def kla_statistics(*, session: Session, area: Region, period: Period, now: datetime) -> dict:
    """Every figure of the KLA dashboard for AREA in PERIOD."""
    scope = Scope(session, area, period, now)
    grid = _period_grid(scope)
    rows = _kelurahan_rows(scope, grid)
    referrals = _referrals_of_period(scope)
    triage_on_time = sum(cell["triage_on_time"] for cell in grid)
    triage_late = sum(cell["triage_late"] for cell in grid)
    return {
        "area": {"code": area.code, "name": area.name, "level": area.level.value},
        "period": {"from": period.first_day.isoformat(), "to": period.last_day.isoformat()},
        "totals": {
            "violence_cases": sum(row["violence_cases"] for row in rows),
            "violence_by_type": {kind.value: sum(cell[kind.value] for cell in grid)
                                 for kind in ViolenceType},
            "stunting_risk_cases": sum(row["stunting_risk_cases"] for row in rows),
            "open_cases": sum(row["open_cases"] for row in rows),
            "closed_by_reason": _closed_by_reason(scope),
            **_nutrition(scope),
        },
        "kelurahan_count": len(rows),
        "zero_violence_kelurahan": sum(1 for row in rows if row["violence_cases"] == 0),
        "kelurahan": rows,
        "monthly": _monthly(period, grid),
        "sla": {
            "triage_on_time_pct": _pct(triage_on_time, triage_late),
            "triage_on_time": triage_on_time, "triage_late": triage_late,
            "acceptance_on_time_pct": _pct(referrals["on_time"], referrals["late"]),
            "acceptance_on_time": referrals["on_time"], "acceptance_late": referrals["late"],
        },
        "referral_outcomes": referrals["outcomes"],
    }


def _period_grid(scope: Scope) -> list[dict]:
    """The period's cases counted per kelurahan and month, in one pass."""
    month = columns.month_of(Case.created_at, zone=scope.period.zone,
                             postgresql=scope.postgresql, at=scope.period.start)
    violence = Case.category == Category.VIOLENCE
    triage_late = case((Case.triaged_at.is_(None), Case.triage_due_at <= scope.now),
                       else_=Case.triaged_at > Case.triage_due_at)
    counts = [
        Case.village_code, month.label("month"),
        func.count().filter(violence).label("violence"),
        func.count().filter(Case.category == Category.STUNTING_RISK).label("stunting"),
        func.count().filter(Case.triaged_at <= Case.triage_due_at).label("triage_on_time"),
        func.count().filter(triage_late).label("triage_late"),
        *(func.count().filter(violence, columns.has_violence_type(
            kind, postgresql=scope.postgresql)).label(kind.value) for kind in ViolenceType),
    ]
    grid = [dict(row._mapping) for row in scope.session.execute(
        select(*counts).where(scope.cases_in_period()).group_by(Case.village_code, month))]
    for cell in grid:
        cell["month"] = f"{columns.month_start(cell['month']):%Y-%m}"
    return grid


def _kelurahan_rows(scope: Scope, grid: list[dict]) -> list[dict]:
    """One row per kelurahan of the area, also for kelurahan without any case."""
    counted = defaultdict(lambda: {"violence": 0, "stunting": 0})
    for cell in grid:
        counted[cell["village_code"]]["violence"] += cell["violence"]
        counted[cell["village_code"]]["stunting"] += cell["stunting"]
    still_open = dict(scope.session.execute(
        select(Case.village_code, func.count())
        .where(Case.status.in_(OPEN_STATUSES), scope.cases_in_area(),
               Case.created_at < scope.period.end)
        .group_by(Case.village_code)).all())
    # a closed case has no open referral: start from the area's open cases, which are few
    overdue = dict(scope.session.execute(
        select(Case.village_code, func.count(Referral.id))
        .join(Referral, Referral.case_id == Case.id)
        .where(Case.status.in_(OPEN_STATUSES), scope.cases_in_area(),
               Referral.status == ReferralStatus.PENDING, Referral.due_at <= scope.now)
        .group_by(Case.village_code)).all())
    medians = _medians(scope, {
        "triage": _days(scope, Case.created_at, Case.triaged_at),
        "acceptance": _days(scope, Case.created_at, Case.first_accepted_at),
    })
    to_triage, to_acceptance = medians["triage"], medians["acceptance"]
    # one index probe per kelurahan: its latest violence report up to the period's end
    last_violence_at = (
        select(func.max(Case.created_at))
        .where(Case.category == Category.VIOLENCE, Case.village_code == Region.code,
               Case.created_at < scope.period.end)
        .correlate(Region).scalar_subquery())
    villages = scope.session.execute(
        select(Region.code, Region.name, last_violence_at).where(
            Region.level == RegionLevel.VILLAGE, within_prefix(Region.code, scope.area.code))
        .order_by(Region.code)).all()
    return [{
        "code": code,
        "name": name,
        "violence_cases": counted[code]["violence"],
        "stunting_risk_cases": counted[code]["stunting"],
        "open_cases": still_open.get(code, 0),
        "days_since_last_violence_case": (
            (scope.period.end - _aware(last)).days if last is not None else None),
        "overdue_referrals": overdue.get(code, 0),
        "triaged_cases": to_triage.get(code, (None, 0))[1],
        "median_days_to_triage": to_triage.get(code, (None, 0))[0],
        "accepted_cases": to_acceptance.get(code, (None, 0))[1],
        "median_days_to_first_acceptance": to_acceptance.get(code, (None, 0))[0],
    } for code, name, last in villages]


def _referrals_of_period(scope: Scope) -> dict:
    """Outcomes per agency and acceptance on time, for the referrals of the period's cases;
    a referral still pending past its due time counts as late."""
    late = case((Referral.accepted_at.is_not(None), Referral.accepted_at > Referral.due_at),
                (Referral.status == ReferralStatus.PENDING, Referral.due_at <= scope.now),
                else_=False)
    by_agency = defaultdict(dict)
    on_time = late_count = 0
    for agency, status, number, in_time, too_late in scope.session.execute(
            select(Referral.agency_code, Referral.status, func.count(),
                   func.count().filter(Referral.accepted_at <= Referral.due_at),
                   func.count().filter(late))
            .join(Case, Case.id == Referral.case_id)
            .where(scope.cases_in_period())
            .group_by(Referral.agency_code, Referral.status)):
        by_agency[agency][status.value] = number
        on_time += in_time
        late_count += too_late
    outcomes = []
    for agency in sorted(by_agency):
        by_status = {status.value: by_agency[agency].get(status.value, 0)
                     for status in ReferralStatus}
        total = sum(by_status.values())
        outcomes.append({"agency": agency, "referrals": total, **by_status,
                         "completed_pct": round(100 * by_status["completed"] / total, 1)})
    return {"outcomes": outcomes, "on_time": on_time, "late": late_count}


def _closed_by_reason(scope: Scope) -> dict:
    closed = dict(scope.session.execute(
        select(Case.closure_reason, func.count())
        .where(Case.closed_at >= scope.period.start, Case.closed_at < scope.period.end,
               scope.cases_in_area())
        .group_by(Case.closure_reason)).all())
    return {reason.value: closed.get(reason, 0) for reason in ClosureReason}


def _nutrition(scope: Scope) -> dict:
    """Children measured in the period, and the share stunted / wasted / underweight at
    their latest measurement of the period."""
    ranked = (
        select(Measurement.haz, Measurement.waz, Measurement.whz, func.row_number().over(
            partition_by=Measurement.child_id,
            order_by=(Measurement.measured_on.desc(), Measurement.created_at.desc()),
        ).label("rank"))
        .join(Child, Child.id == Measurement.child_id)
        .where(within_prefix(Child.village_code, scope.area.code),
               Measurement.measured_on >= scope.period.first_day,
               Measurement.measured_on <= scope.period.last_day)
        .subquery())
    figures = scope.session.execute(select(
        func.count(),
        func.count(ranked.c.haz),
        func.count(ranked.c.whz),
        func.count(ranked.c.waz),
        func.count().filter(ranked.c.haz < -2),
        func.count().filter(ranked.c.whz < -2),
        func.count().filter(ranked.c.waz < -2),
    ).where(ranked.c.rank == 1)).one()
    measured, with_haz, with_whz, with_waz, stunted, wasted, underweight = figures
    # a share is of the children with a valid z: whz is missing outside 45-120 cm, and a z
    # WHO flags as implausible is missing too (children/growth.py)
    return {"children_measured": measured, "stunted_pct": _pct(stunted, with_haz - stunted),
            "wasted_pct": _pct(wasted, with_whz - wasted),
            "underweight_pct": _pct(underweight, with_waz - underweight)}


def _monthly(period: Period, grid: list[dict]) -> list[dict]:
    by_month = defaultdict(lambda: {"violence": 0, "stunting": 0})
    for cell in grid:
        by_month[cell["month"]]["violence"] += cell["violence"]
        by_month[cell["month"]]["stunting"] += cell["stunting"]
    series = []
    year, number = period.first_day.year, period.first_day.month
    while (year, number) <= (period.last_day.year, period.last_day.month):
        key = f"{year:04d}-{number:02d}"
        series.append({"month": key, "violence_cases": by_month[key]["violence"],
                       "stunting_risk_cases": by_month[key]["stunting"]})
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return series


def _days(scope: Scope, start, end):
    """END - START in days, as a float (NULL when END is NULL), on either backend."""
    if scope.postgresql:  # date_part is double precision; extract() would be numeric
        return func.date_part("epoch", end - start) / SECONDS_PER_DAY
    return (func.extract("epoch", end) - func.extract("epoch", start)) / SECONDS_PER_DAY


def _medians(scope: Scope, durations: dict) -> dict:
    """For each named duration (in days; NULL when not reached), its (median, count) per
    kelurahan over the period's cases, all in one pass (percentile_cont on PostgreSQL; the
    embedded database has no median, so its durations are sorted here)."""
    by_name = {name: {} for name in durations}
    if scope.postgresql:
        aggregates = [aggregate for duration in durations.values() for aggregate in (
            func.percentile_cont(0.5).within_group(duration), func.count(duration))]
        for code, *figures in scope.session.execute(
                select(Case.village_code, *aggregates).where(scope.cases_in_period())
                .group_by(Case.village_code)):
            for index, name in enumerate(durations):
                median, number = figures[2 * index], figures[2 * index + 1]
                if number:
                    by_name[name][code] = (round(median, 1), number)
        return by_name
    values = {name: defaultdict(list) for name in durations}
    for code, *days in scope.session.execute(
            select(Case.village_code, *durations.values()).where(scope.cases_in_period())):
        for name, value in zip(durations, days, strict=True):
            if value is not None:
                values[name][code].append(value)
    return {name: {code: (round(statistics.median(found), 1), len(found))
                   for code, found in by_code.items()} for name, by_code in values.items()}


def _pct(part: int, rest: int) -> float | None:
    return round(100 * part / (part + rest), 1) if part + rest else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def covers(area_codes, code: str) -> bool:
    return any(region_codes.covers(area, code) for area in area_codes)
