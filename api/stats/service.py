"""KLA statistics computed by SQL aggregates over an area and a period (DESIGN §6).

Counts are of cases reported in the period (from 00:00 UTC of FROM to the end of TO), except
`open_cases` (reported up to TO and not closed now), `closed_by_reason` (closed in the period),
`overdue_referrals` (pending past their due time now) and `days_since_last_violence_case`
(from the last violence report up to TO to the end of TO).
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from api.cases.models import Case
from api.children.models import Child, Measurement
from api.referrals.models import Referral
from api.regions import codes as region_codes
from api.regions.models import Region
from api.regions.service import within_prefix
from api.vocabularies.codes import (
    CaseStatus,
    Category,
    ClosureReason,
    ReferralStatus,
    RegionLevel,
    ViolenceType,
)

SECONDS_PER_DAY = 86400.0
KELURAHAN_COUNTS = ("violence_cases", "stunting_risk_cases", "open_cases", "overdue_referrals")


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=UTC)


def kla_statistics(*, session: Session, area: Region, period: Period, now: datetime) -> dict:
    """Every figure of the KLA dashboard for AREA in PERIOD."""
    rows = kelurahan_rows(session=session, area=area, period=period, now=now)
    return {
        "area": {"code": area.code, "name": area.name, "level": area.level.value},
        "period": {"from": period.first_day.isoformat(), "to": period.last_day.isoformat()},
        "totals": _totals(session=session, area=area, period=period, rows=rows),
        "kelurahan_count": len(rows),
        "zero_violence_kelurahan": sum(1 for row in rows if row["violence_cases"] == 0),
        "kelurahan": rows,
        "monthly": _monthly(session=session, area=area, period=period),
        "sla": _sla(session=session, area=area, period=period, now=now),
        "referral_outcomes": _referral_outcomes(session=session, area=area, period=period),
    }


def kelurahan_rows(*, session: Session, area: Region, period: Period, now: datetime
                   ) -> list[dict]:
    """One row per kelurahan of AREA, also for kelurahan without any case."""
    in_area = within_prefix(Case.village_code, area.code)
    in_period = and_(Case.created_at >= period.start, Case.created_at < period.end)
    counts = {
        row.village_code: row for row in session.execute(
            select(
                Case.village_code,
                func.count().filter(Case.category == Category.VIOLENCE).label("violence"),
                func.count().filter(Case.category == Category.STUNTING_RISK).label("stunting"),
            ).where(in_area, in_period).group_by(Case.village_code))
    }
    still_open = dict(session.execute(
        select(Case.village_code, func.count())
        .where(in_area, Case.status.in_([s for s in CaseStatus if s is not CaseStatus.CLOSED]),
               Case.created_at < period.end)
        .group_by(Case.village_code)).all())
    last_violence = dict(session.execute(
        select(Case.village_code, func.max(Case.created_at))
        .where(Case.category == Category.VIOLENCE, in_area, Case.created_at < period.end)
        .group_by(Case.village_code)).all())
    overdue = dict(session.execute(
        select(Case.village_code, func.count(Referral.id))
        .join(Referral, Referral.case_id == Case.id)
        .where(in_area, Referral.status == ReferralStatus.PENDING, Referral.due_at <= now)
        .group_by(Case.village_code)).all())
    to_triage = _medians(session, _days(Case.created_at, Case.triaged_at), Case.village_code,
                         select(Case.village_code).where(in_area, in_period,
                                                         Case.triaged_at.is_not(None)))
    first_acceptance = (
        select(Referral.case_id, func.min(Referral.accepted_at).label("accepted_at"))
        .where(Referral.accepted_at.is_not(None)).group_by(Referral.case_id).subquery())
    to_acceptance = _medians(
        session, _days(Case.created_at, first_acceptance.c.accepted_at), Case.village_code,
        select(Case.village_code).join(first_acceptance, first_acceptance.c.case_id == Case.id)
        .where(in_area, in_period))
    villages = session.execute(
        select(Region.code, Region.name).where(
            Region.level == RegionLevel.VILLAGE, within_prefix(Region.code, area.code))
        .order_by(Region.code)).all()
    rows = []
    for code, name in villages:
        counted = counts.get(code)
        last = last_violence.get(code)
        rows.append({
            "code": code,
            "name": name,
            "violence_cases": counted.violence if counted else 0,
            "stunting_risk_cases": counted.stunting if counted else 0,
            "open_cases": still_open.get(code, 0),
            "days_since_last_violence_case": (period.end - _aware(last)).days if last else None,
            "overdue_referrals": overdue.get(code, 0),
            "median_days_to_triage": to_triage.get(code),
            "median_days_to_first_acceptance": to_acceptance.get(code),
        })
    return rows


def suppress_small_counts(rows: list[dict]) -> list[dict]:
    """Counts of 1-2 in one kelurahan could single a child out: shown as null, flagged.
    Medians over fewer than three cases are withheld too."""
    suppressed_rows = []
    for row in rows:
        row = dict(row)
        hidden = [name for name in KELURAHAN_COUNTS if row[name] in (1, 2)]
        small = (row["violence_cases"] or 0) + (row["stunting_risk_cases"] or 0) < 3
        if small:
            hidden += [name for name in ("median_days_to_triage",
                                         "median_days_to_first_acceptance",
                                         "days_since_last_violence_case")
                       if row[name] is not None]
        for name in hidden:
            row[name] = None
        row["suppressed"] = bool(hidden)
        suppressed_rows.append(row)
    return suppressed_rows


def _totals(*, session, area, period, rows) -> dict:
    in_area = within_prefix(Case.village_code, area.code)
    in_period = and_(Case.created_at >= period.start, Case.created_at < period.end)
    by_type_columns = [
        func.count().filter(_has_violence_type(session, kind)).label(kind.value)
        for kind in ViolenceType
    ]
    by_type = session.execute(
        select(*by_type_columns).where(in_area, in_period,
                                       Case.category == Category.VIOLENCE)).one()
    closed = dict(session.execute(
        select(Case.closure_reason, func.count())
        .where(in_area, Case.closed_at >= period.start, Case.closed_at < period.end)
        .group_by(Case.closure_reason)).all())
    return {
        "violence_cases": sum(row["violence_cases"] for row in rows),
        "violence_by_type": {kind.value: by_type._mapping[kind.value] for kind in ViolenceType},
        "stunting_risk_cases": sum(row["stunting_risk_cases"] for row in rows),
        "open_cases": sum(row["open_cases"] for row in rows),
        "closed_by_reason": {reason.value: closed.get(reason, 0) for reason in ClosureReason},
        **_nutrition(session=session, area=area, period=period),
    }


def _has_violence_type(session, kind: ViolenceType):
    """Whether a case's violence_types (a JSON list) holds KIND, on either backend."""
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(Case.violence_types, JSONB).contains([kind.value])
    return func.json_extract(Case.violence_types, "$").like(f'%"{kind.value}"%')


def _nutrition(*, session, area, period) -> dict:
    """Children measured in the period, and the share stunted / wasted / underweight at
    their latest measurement of the period."""
    ranked = (
        select(Measurement.haz, Measurement.waz, Measurement.whz, func.row_number().over(
            partition_by=Measurement.child_id,
            order_by=(Measurement.measured_on.desc(), Measurement.created_at.desc()),
        ).label("rank"))
        .join(Child, Child.id == Measurement.child_id)
        .where(within_prefix(Child.village_code, area.code),
               Measurement.measured_on >= period.first_day,
               Measurement.measured_on <= period.last_day)
        .subquery())
    latest = session.execute(select(
        func.count(),
        func.count().filter(ranked.c.haz < -2),
        func.count().filter(ranked.c.whz < -2),
        func.count().filter(ranked.c.waz < -2),
    ).where(ranked.c.rank == 1)).one()
    measured, stunted, wasted, underweight = latest

    def share(part):
        return round(100 * part / measured, 1) if measured else None

    return {"children_measured": measured, "stunted_pct": share(stunted),
            "wasted_pct": share(wasted), "underweight_pct": share(underweight)}


def _monthly(*, session, area, period) -> list[dict]:
    month = _month_of(session, Case.created_at)
    counted = {
        row.month: row for row in session.execute(
            select(month.label("month"),
                   func.count().filter(Case.category == Category.VIOLENCE).label("violence"),
                   func.count().filter(Case.category == Category.STUNTING_RISK
                                       ).label("stunting"))
            .where(within_prefix(Case.village_code, area.code),
                   Case.created_at >= period.start, Case.created_at < period.end)
            .group_by(month))
    }
    series = []
    year, number = period.first_day.year, period.first_day.month
    while (year, number) <= (period.last_day.year, period.last_day.month):
        key = f"{year:04d}-{number:02d}"
        row = counted.get(key)
        series.append({"month": key, "violence_cases": row.violence if row else 0,
                       "stunting_risk_cases": row.stunting if row else 0})
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return series


def _sla(*, session, area, period, now) -> dict:
    """Share of cases triaged by their deadline, and of referrals accepted by theirs; an item
    still waiting past its deadline counts as late, one waiting within it is not counted."""
    in_area = within_prefix(Case.village_code, area.code)
    triage = session.execute(
        select(
            func.count().filter(Case.triaged_at <= Case.triage_due_at),
            func.count().filter(case((Case.triaged_at.is_(None), Case.triage_due_at <= now),
                                     else_=Case.triaged_at > Case.triage_due_at)),
        ).where(in_area, Case.created_at >= period.start, Case.created_at < period.end)).one()
    acceptance = session.execute(
        select(
            func.count().filter(Referral.accepted_at <= Referral.due_at),
            func.count().filter(case(
                (Referral.accepted_at.is_not(None), Referral.accepted_at > Referral.due_at),
                (Referral.status == ReferralStatus.PENDING, Referral.due_at <= now),
                else_=False)),
        ).join(Case, Case.id == Referral.case_id)
        .where(in_area, Referral.created_at >= period.start,
               Referral.created_at < period.end)).one()

    def pct(on_time, late):
        return round(100 * on_time / (on_time + late), 1) if on_time + late else None

    return {
        "triage_on_time_pct": pct(*triage), "triage_on_time": triage[0],
        "triage_late": triage[1],
        "acceptance_on_time_pct": pct(*acceptance), "acceptance_on_time": acceptance[0],
        "acceptance_late": acceptance[1],
    }


def _referral_outcomes(*, session, area, period) -> list[dict]:
    counted = defaultdict(dict)
    for agency, status, number in session.execute(
            select(Referral.agency_code, Referral.status, func.count())
            .join(Case, Case.id == Referral.case_id)
            .where(within_prefix(Case.village_code, area.code),
                   Referral.created_at >= period.start, Referral.created_at < period.end)
            .group_by(Referral.agency_code, Referral.status)):
        counted[agency][status.value] = number
    outcomes = []
    for agency in sorted(counted):
        by_status = {status.value: counted[agency].get(status.value, 0)
                     for status in ReferralStatus}
        total = sum(by_status.values())
        outcomes.append({"agency": agency, "referrals": total, **by_status,
                         "completed_pct": round(100 * by_status["completed"] / total, 1)})
    return outcomes


def _days(start, end):
    """END - START in days, as a float, on either backend."""
    return (func.extract("epoch", end) - func.extract("epoch", start)) / SECONDS_PER_DAY


def _medians(session, duration, group, base) -> dict:
    """Median of DURATION per GROUP over the rows of BASE (percentile_cont on PostgreSQL;
    the embedded database has no median, so its few durations are sorted here)."""
    query = base.add_columns(duration.label("days"))
    if session.get_bind().dialect.name == "postgresql":
        grouped = query.subquery()
        return {code: round(value, 1) for code, value in session.execute(
            select(grouped.c.village_code,
                   func.percentile_cont(0.5).within_group(grouped.c.days))
            .group_by(grouped.c.village_code))}
    by_group = defaultdict(list)
    for code, days in session.execute(query):
        by_group[code].append(days)
    return {code: round(statistics.median(values), 1) for code, values in by_group.items()}


def _month_of(session, column):
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def covers(area_codes, code: str) -> bool:
    return any(region_codes.covers(area, code) for area in area_codes)
