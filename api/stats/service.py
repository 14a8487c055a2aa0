"""KLA statistics summed from daily roll-ups over an area and a period (DESIGN §6).

Counts are of cases reported in the period (from the start of FROM to the end of TO), and of
the referrals of those cases, except `open_cases` (reported up to TO and not closed now),
`closed_by_reason` (closed in the period), `overdue_referrals` (pending past their due time
now) and `days_since_last_violence_case` (from the last violence report up to TO to the end
of TO). Days and months are those of the kelurahan's calendar (regions/calendar.py).

The figures are sums over the roll-ups of the area's kelurahan (stats/rollups.py: kept in
the transaction of every change to a case or referral): month rows for the period's whole
months, day rows for the partial months at its edges, so a city-year reads about one small
row per kelurahan-month (and, for the exact medians, one list of durations per
kelurahan-month) instead of every case and referral. Only what depends on the moment of
asking is counted live, from few rows on their own indexes: the cases still untriaged past
their due time (late triage), the referrals still pending past their due time (late
acceptance, overdue referrals), the last violence report of each kelurahan (one index probe
each) and the latest measurement of each child of the period.

Analysts get other figures: sums of the published cells of fixed monthly releases
(analyst_statistics; stats/disclosure.py, docs/statistics-disclosure.md).
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, any_, false, func, or_, select, text
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
from api.stats.models import KlaDay, KlaDuration, KlaMonth, KlaReferralDay, KlaReferralMonth
from api.stats.rollups import ACCEPTANCE, TRIAGE, month_of
from api.vocabularies.codes import (
    CaseStatus,
    Category,
    ClosureReason,
    ReferralStatus,
    RegionLevel,
    ViolenceType,
)

MICROSECONDS_PER_DAY = 86_400_000_000
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

    def whole_months(self) -> tuple[date, date] | None:
        """The first days of the first and last whole months of the period, if any."""
        first, last = self.period.first_day, self.period.last_day
        start = first if first.day == 1 else month_of(first + timedelta(days=31 - first.day + 1))
        after = last + timedelta(days=1)
        end = month_of(last) if after.day == 1 else month_of(month_of(last) - timedelta(days=1))
        return (start, end) if start <= end else None

    def days_in_period(self, table):
        """The day roll-up rows of TABLE for the area's kelurahan and the period's days
        outside its whole months (the partial months at its edges)."""
        first, last = self.period.first_day, self.period.last_day
        whole = self.whole_months()
        if whole is None:
            days = and_(table.day >= first, table.day <= last)
        else:
            after_whole = month_of(whole[1] + timedelta(days=31))
            days = or_(and_(table.day >= first, table.day < whole[0]),
                       and_(table.day >= after_whole, table.day <= last))
        return and_(within_prefix(table.village_code, self.area.code), days)

    def months_in_period(self, table):
        """The month roll-up rows of TABLE for the area's kelurahan and the period's whole
        months (none if it has none)."""
        whole = self.whole_months()
        if whole is None:
            return false()
        return and_(within_prefix(table.village_code, self.area.code),
                    table.month >= whole[0], table.month <= whole[1])


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
    pending = _pending_past_due(scope)
    rows = _kelurahan_rows(scope, grid, pending)
    referrals = _referrals_of_period(scope, pending)
    triage_on_time = sum(cell["triage_on_time"] for cell in grid)
    triage_late = sum(cell["triage_late"] for cell in grid) + _untriaged_past_due(scope)
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


GRID_COUNTS = ("violence", "stunting", "triage_on_time", "triage_late",
               *(kind.value for kind in ViolenceType))


def _period_grid(scope: Scope) -> list[dict]:
    """The period's cases counted per kelurahan and month: the month roll-ups of its whole
    months and the day roll-ups of the partial months at its edges."""
    cells = {}
    for table, month in ((KlaMonth, KlaMonth.month),
                         (KlaDay, columns.month_of_day(KlaDay.day, postgresql=scope.postgresql))):
        where = (scope.months_in_period(table) if table is KlaMonth
                 else scope.days_in_period(table))
        counts = [
            table.village_code, month.label("month"),
            func.sum(table.violence).label("violence"),
            func.sum(table.stunting_risk).label("stunting"),
            func.sum(table.triaged_on_time).label("triage_on_time"),
            func.sum(table.triaged_late).label("triage_late"),
            *(func.sum(getattr(table, f"type_{kind.value}")).label(kind.value)
              for kind in ViolenceType),
        ]
        for row in scope.session.execute(select(*counts).where(where)
                                          .group_by(table.village_code, month)):
            key = (row.village_code, f"{columns.month_start(row.month):%Y-%m}")
            cell = cells.setdefault(key, {"village_code": key[0], "month": key[1],
                                          **dict.fromkeys(GRID_COUNTS, 0)})
            for name in GRID_COUNTS:
                cell[name] += getattr(row, name)
    return list(cells.values())


def _untriaged_past_due(scope: Scope) -> int:
    """The period's cases still untriaged past their due time: late as of now, so not rolled
    up (ix_cases_untriaged holds only untriaged cases)."""
    return scope.session.scalar(
        select(func.count()).select_from(Case)
        .where(Case.triaged_at.is_(None), Case.triage_due_at <= scope.now,
               scope.cases_in_period()))


def _pending_past_due(scope: Scope) -> dict[str, dict[str, int]]:
    """Per kelurahan of the area, the referrals still pending past their due time: of open
    cases ("overdue": any report day), and not accepted, of the period's cases ("late").
    Late as of now, so not rolled up. The pending referrals past due are few and read from
    ix_referrals_pending_due_at alone, counted per case; their cases are then probed by key
    (on PostgreSQL `id = ANY(ARRAY(…))`: as a join the planner would scan every case of the
    area) and counted per kelurahan, in one statement."""
    past_due = (select(Referral.case_id)
                .where(text("referrals.status = 'pending'"), Referral.due_at <= scope.now))
    per_case = (past_due.add_columns(func.count().label("pending"),
                                     func.count().filter(Referral.accepted_at.is_(None))
                                     .label("unaccepted"))
                .group_by(Referral.case_id).subquery())
    of_pending = (Case.id == any_(func.array(past_due.scalar_subquery()))
                  if scope.postgresql else Case.id.in_(past_due))
    in_period = and_(Case.created_at >= scope.period.start, Case.created_at < scope.period.end)
    counted = (
        select(Case.village_code,
               func.coalesce(func.sum(per_case.c.pending)
                             .filter(Case.status.in_(OPEN_STATUSES)), 0),
               func.coalesce(func.sum(per_case.c.unaccepted).filter(in_period), 0))
        .join(per_case, per_case.c.case_id == Case.id)
        .where(of_pending, scope.cases_in_area())
        .group_by(Case.village_code))
    return {village: {"overdue": int(overdue), "late": int(late)}
            for village, overdue, late in scope.session.execute(counted)
            if overdue or late}


def _kelurahan_rows(scope: Scope, grid: list[dict], pending: dict) -> list[dict]:
    """One row per kelurahan of the area, also for kelurahan without any case."""
    counted = defaultdict(lambda: {"violence": 0, "stunting": 0})
    for cell in grid:
        counted[cell["village_code"]]["violence"] += cell["violence"]
        counted[cell["village_code"]]["stunting"] += cell["stunting"]
    # the cases reported up to TO and open now; only the kelurahan-days still holding an open
    # case are in ix_kla_days_open (the literal predicate lets the planner use it)
    still_open = dict(scope.session.execute(
        select(KlaDay.village_code, func.sum(KlaDay.open_cases))
        .where(text("kla_days.open_cases <> 0"), within_prefix(KlaDay.village_code,
                                                               scope.area.code),
               KlaDay.day <= scope.period.last_day)
        .group_by(KlaDay.village_code)).all())
    to_triage, to_acceptance = _median(scope, TRIAGE), _median(scope, ACCEPTANCE)
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
        "overdue_referrals": pending.get(code, {}).get("overdue", 0),
        "triaged_cases": to_triage.get(code, (None, 0))[1],
        "median_days_to_triage": to_triage.get(code, (None, 0))[0],
        "accepted_cases": to_acceptance.get(code, (None, 0))[1],
        "median_days_to_first_acceptance": to_acceptance.get(code, (None, 0))[0],
    } for code, name, last in villages]


def _referrals_of_period(scope: Scope, pending: dict) -> dict:
    """Outcomes per agency and acceptance on time, for the referrals of the period's cases;
    a referral still pending past its due time counts as late (PENDING: _pending_past_due)."""
    by_agency = defaultdict(lambda: defaultdict(int))
    on_time = late_count = 0
    for table, where in ((KlaReferralMonth, scope.months_in_period(KlaReferralMonth)),
                         (KlaReferralDay, scope.days_in_period(KlaReferralDay))):
        for agency, status, number, in_time, too_late in scope.session.execute(
                select(table.agency_code, table.status, func.sum(table.referrals),
                       func.sum(table.accepted_on_time), func.sum(table.accepted_late))
                .where(where).group_by(table.agency_code, table.status)):
            if number:
                by_agency[agency][status] += number
            on_time += in_time
            late_count += too_late
    late_count += sum(counts["late"] for counts in pending.values())
    outcomes = []
    for agency in sorted(by_agency):
        by_status = {status.value: by_agency[agency].get(status.value, 0)
                     for status in ReferralStatus}
        total = sum(by_status.values())
        outcomes.append({"agency": agency, "referrals": total, **by_status,
                         "completed_pct": round(100 * by_status["completed"] / total, 1)})
    return {"outcomes": outcomes, "on_time": on_time, "late": late_count}


def _closed_by_reason(scope: Scope) -> dict:
    closed = defaultdict(int)
    for table, where in ((KlaMonth, scope.months_in_period(KlaMonth)),
                         (KlaDay, scope.days_in_period(KlaDay))):
        numbers = scope.session.execute(select(*(
            func.coalesce(func.sum(getattr(table, f"closed_{reason.value}")), 0)
            for reason in ClosureReason)).where(where)).one()
        for reason, number in zip(ClosureReason, numbers, strict=True):
            closed[reason.value] += number
    return {reason.value: closed[reason.value] for reason in ClosureReason}


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


def _median(scope: Scope, measure: str) -> dict[str, tuple[float, int]]:
    """(median in days rounded to 0.1, number of cases) per kelurahan of the durations
    MEASURE (rollups.TRIAGE or ACCEPTANCE) of the period's cases: one row per kelurahan-month
    (a few more before a fold), each a list of (day, microseconds, cases) — the exact
    median, as the lists keep microseconds; days outside the period are left out."""
    first, last = scope.period.first_day, scope.period.last_day
    counted = defaultdict(Counter)
    for code, month, durations in scope.session.execute(
            select(KlaDuration.village_code, KlaDuration.month, KlaDuration.durations)
            .where(KlaDuration.measure == measure,
                   within_prefix(KlaDuration.village_code, scope.area.code),
                   KlaDuration.month >= month_of(first), KlaDuration.month <= last)):
        next_month = (month + timedelta(days=31)).replace(day=1)
        whole = month >= first and next_month <= last + timedelta(days=1)
        histogram = counted[code]
        for day, microseconds, number in durations:
            if whole or first <= month.replace(day=day) <= last:
                histogram[microseconds] += number
    medians = {}
    for code, histogram in sorted(counted.items()):
        kept = sorted((value, number) for value, number in histogram.items() if number > 0)
        if kept:
            medians[code] = (round(_middle(kept) / MICROSECONDS_PER_DAY, 1),
                             sum(number for _, number in kept))
    return medians


def _middle(histogram: list[tuple[int, int]]) -> float:
    """The median of a sorted histogram of (value, count): the middle value, or the mean of
    the two middle ones."""
    total = sum(number for _, number in histogram)
    low, high = (total - 1) // 2, total // 2
    found = []
    seen = 0
    for value, number in histogram:
        while len(found) < 2 and seen + number > (low, high)[len(found)]:
            found.append(value)
        seen += number
        if len(found) == 2:
            break
    return (found[0] + found[1]) / 2


def _pct(part: int, rest: int) -> float | None:
    return round(100 * part / (part + rest), 1) if part + rest else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def covers(area_codes, code: str) -> bool:
    return any(region_codes.covers(area, code) for area in area_codes)
