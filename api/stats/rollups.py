"""Roll-ups of the KLA dashboard per kelurahan and local day and month, kept in each change's
transaction.

`GET /stats/kla` (stats/service.py) sums small rows — one per kelurahan and month of its
calendar (regions/calendar.py) for the period's whole months, one per kelurahan and day for
the partial months at its edges — instead of reading every case of the period:

- `kla_days` / `kla_months`: cases reported that day / month by category and violence type,
  triaged on time or late, still open; cases closed that day / month by closure reason;
- `kla_referral_days` / `kla_referral_months`: the referrals of the cases reported that day /
  month, per agency and status, accepted on time or late;
- `kla_durations`: per kelurahan-month, the list of the times from report to triage and to
  the first accepted referral with their report day, at the timestamps' own precision
  (microseconds), so the medians are exact; a city-year reads a few hundred such rows.

Day and month rows are written from the same figures (Figures.rows()), so a month row always
equals the sum of its days.

What depends on the moment of asking — a case still untriaged past its due time, a referral
still pending past its due time — is not rolled up: service.py counts those few rows live.

How the roll-ups follow the cases. A flush listener on every Session sees each flush that
adds, changes or removes a case or referral in a figure that counts (TRACKED_*). Before the
flush it reads the touched cases and all their referrals from the database; after the flush
it reads them again, and writes the difference of their contributions (contributions()) as
new rows. The same function rebuilds everything from the cases (rebuild()), so an
incremental roll-up and a recomputation agree by construction; a correction that moves a
case to another kelurahan moves its referrals' figures too, and nothing acknowledged is
missed whichever service made the change (report, triage, correction, close, reopen,
referral routing and transitions, demo data, imports).

Why append-only delta rows rather than an upsert of one row per (kelurahan, day). Many
reports in one kelurahan on one day would all update one row; the first would hold its lock
until its transaction ends (the audit events and the outbox are written after the case), so
the others would queue behind it, and two transactions touching two such rows in opposite
orders — a correction moving a case from kelurahan A to B while another moves one from B to
A — would deadlock. An INSERT of a new row locks nothing another writer waits for: reports
never wait for each other here and no lock order can be broken. A rolled-back transaction
(or savepoint) takes its delta rows with it. Readers SUM the rows of a key, which is exact
whatever the number of rows; fold() collapses each key's rows into one (every minute in
`lindung worker`, or `lindung stats fold`) so that reads stay on about one row per key, and
`lindung stats rebuild` recomputes everything from the cases.

Folding deletes the rows it folds with DELETE … RETURNING — one statement, one snapshot — and
writes their sums, so a delta committed meanwhile is either folded or left as it is, never
lost or counted twice. Two folds take turns (a transaction-level advisory lock on
PostgreSQL; SQLite has one writer): deleting the same rows in different orders they could
otherwise deadlock each other.
"""

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import chain

from sqlalchemy import Connection, delete, event, func, insert, inspect, select, tuple_
from sqlalchemy.orm import Session

from api.cases.models import Case
from api.referrals.models import Referral
from api.regions import calendar
from api.stats.models import KlaDay, KlaDuration, KlaMonth, KlaReferralDay, KlaReferralMonth
from api.vocabularies.codes import CaseStatus, Category, ViolenceType

TRACKED_CASE = ("village_code", "category", "violence_types", "status", "closure_reason",
                "created_at", "closed_at", "triaged_at", "triage_due_at", "first_accepted_at")
TRACKED_REFERRAL = ("case_id", "agency_code", "status", "accepted_at", "due_at")
DAY_COUNTS = tuple(column.name for column in KlaDay.__table__.columns
                   if column.name not in ("id", "village_code", "day"))
REFERRAL_COUNTS = ("referrals", "accepted_on_time", "accepted_late")
TRIAGE, ACCEPTANCE = "triage", "acceptance"
ONE_MICROSECOND = timedelta(microseconds=1)
_VIOLENCE, _STUNTING_RISK = Category.VIOLENCE.value, Category.STUNTING_RISK.value
_CLOSED = CaseStatus.CLOSED.value
_TYPE_COLUMNS = tuple((kind.value, f"type_{kind.value}") for kind in ViolenceType)

_CASE_COLUMNS = [getattr(Case, name) for name in ("id", *TRACKED_CASE)]
_REFERRAL_COLUMNS = [getattr(Referral, name) for name in ("id", *TRACKED_REFERRAL)]
_PENDING = "lindung.kla_rollups"  # Session.info key: what a flush in progress touched
FOLD_LOCK = 0x4B4C4130  # "KLA0": the advisory lock folds take turns on


TABLES = (KlaDay, KlaMonth, KlaReferralDay, KlaReferralMonth, KlaDuration)


@dataclass
class Figures:
    """Contributions to the roll-ups, by key: (village_code, day) → counts for kla_days and,
    summed by month, kla_months; (village_code, day, agency_code, status) → counts for
    kla_referral_days and kla_referral_months; (village_code, day, measure, microseconds) →
    cases for kla_durations."""

    days: defaultdict = field(default_factory=lambda: defaultdict(Counter))
    referrals: defaultdict = field(default_factory=lambda: defaultdict(Counter))
    durations: Counter = field(default_factory=Counter)

    def rows(self) -> dict:
        """The rows of each table of TABLES with a non-zero count, in key order."""
        months, referral_months = defaultdict(Counter), defaultdict(Counter)
        for (village, day), counts in self.days.items():
            months[(village, month_of(day))].update(counts)
        for (village, day, *rest), counts in self.referrals.items():
            referral_months[(village, month_of(day), *rest)].update(counts)
        entries = defaultdict(list)
        for (village, day, measure, microseconds), number in sorted(self.durations.items()):
            if number:
                entries[(village, month_of(day), measure)].append(
                    [day.day, microseconds, number])
        return {
            KlaDay: _count_rows(self.days, ("village_code", "day"), DAY_COUNTS),
            KlaMonth: _count_rows(months, ("village_code", "month"), DAY_COUNTS),
            KlaReferralDay: _count_rows(self.referrals, REFERRAL_DAY_KEY, REFERRAL_COUNTS),
            KlaReferralMonth: _count_rows(referral_months, REFERRAL_MONTH_KEY,
                                          REFERRAL_COUNTS),
            KlaDuration: [{"village_code": village, "month": month, "measure": measure,
                           "durations": durations}
                          for (village, month, measure), durations in sorted(entries.items())],
        }


REFERRAL_DAY_KEY = ("village_code", "day", "agency_code", "status")
REFERRAL_MONTH_KEY = ("village_code", "month", "agency_code", "status")


def _count_rows(figures: dict, keys: tuple, counts: tuple) -> list[dict]:
    """Rows of KEYS and COUNTS columns from FIGURES (key → Counter), non-zero only."""
    return [{**dict(zip(keys, key, strict=True)), **{name: totals.get(name, 0)
                                                    for name in counts}}
            for key, totals in sorted(figures.items()) if any(totals.values())]


def month_of(day: date) -> date:
    """The first day of DAY's month: the key of the month roll-ups."""
    return day.replace(day=1)


def case_key(village_code: str, created_at: datetime) -> tuple[str, date]:
    """The kelurahan and the day of its calendar a case was reported on."""
    return village_code, calendar.local_day(created_at, village_code)


def contributions(case, referrals=(), *, into: Figures | None = None, sign: int = 1
                  ) -> Figures:
    """What one case (anything with TRACKED_CASE attributes: a row or a Case) and its
    referrals add to the roll-ups, times SIGN, added INTO given figures (or new ones). The one
    definition of every rolled-up figure; service.py's reading of them must match
    (tests/stats/test_rollups.py recomputes and compares)."""
    figures = into if into is not None else Figures()
    key = case_key(case.village_code, case.created_at)
    counts = figures.days[key]
    category = _value(case.category)
    if category == _VIOLENCE:
        counts["violence"] += sign
        kinds = case.violence_types or ()
        for kind, column in _TYPE_COLUMNS:
            if kind in kinds:
                counts[column] += sign
    elif category == _STUNTING_RISK:
        counts["stunting_risk"] += sign
    if case.triaged_at is not None:
        counts["triaged_on_time" if case.triaged_at <= case.triage_due_at
               else "triaged_late"] += sign
        figures.durations[(*key, TRIAGE, (case.triaged_at - case.created_at)
                           // ONE_MICROSECOND)] += sign
    if case.first_accepted_at is not None:
        figures.durations[(*key, ACCEPTANCE, (case.first_accepted_at - case.created_at)
                           // ONE_MICROSECOND)] += sign
    if _value(case.status) != _CLOSED:
        counts["open_cases"] += sign
    if case.closed_at is not None and case.closure_reason is not None:
        closed_key = (case.village_code, calendar.local_day(case.closed_at, case.village_code))
        figures.days[closed_key][f"closed_{_value(case.closure_reason)}"] += sign
    for referral in referrals:
        referral_contributions(referral, key, into=figures, sign=sign)
    return figures


def referral_contributions(referral, key: tuple[str, date], *, into: Figures | None = None,
                           sign: int = 1) -> Figures:
    """What one referral of the case reported at KEY (case_key()) adds to the roll-ups,
    times SIGN, added INTO given figures (or new ones)."""
    figures = into if into is not None else Figures()
    counts = figures.referrals[(*key, referral.agency_code, _value(referral.status))]
    counts["referrals"] += sign
    if referral.accepted_at is not None:
        counts["accepted_on_time" if referral.accepted_at <= referral.due_at
               else "accepted_late"] += sign
    return figures


def _value(code) -> str:
    """A vocabulary code's wire value, from its enum member or its value."""
    return getattr(code, "value", code)


def write(session: Session, figures: Figures) -> None:
    """Append FIGURES as delta rows (nothing when every count is zero)."""
    connection = session.connection()
    for table, rows in figures.rows().items():
        if rows:
            connection.execute(insert(table.__table__), rows)


# ---------- keeping the roll-ups in each change's transaction ----------

@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context, instances) -> None:
    touched = [instance for instance in chain(session.new, session.dirty, session.deleted)
               if _counts(session, instance)]
    if not touched:
        return
    reads = _Reads()
    for instance in touched:
        if instance in session.new:
            continue  # nothing in the database yet (and maybe no id before the flush)
        if isinstance(instance, Case):
            if instance in session.deleted or _moves(instance):
                reads.cases_with_referrals.add(instance.id)
            else:
                reads.cases.add(instance.id)
        else:
            reads.referrals.add(instance.id)
    # the figures as they stand, counted negatively: after the flush the new ones are added
    before = _read(session, reads, into=Figures(), sign=-1)
    session.info[_PENDING] = (touched, reads, before)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    touched, reads, before = pending
    # new cases and referrals have their ids only now
    for instance in touched:
        if instance in session.deleted:
            continue
        if isinstance(instance, Case):
            # a new case's referrals are new too: each is among the touched referrals
            if instance.id not in reads.cases_with_referrals:
                reads.cases.add(instance.id)
        else:
            reads.referrals.add(instance.id)
    reads.cases -= reads.cases_with_referrals
    write(session, _read(session, reads, into=before, sign=1))


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    session.info.pop(_PENDING, None)


@dataclass
class _Reads:
    """What one flush reads before and after its statements: the cases whose figures and
    all referrals' figures may move (removed, or moved to another kelurahan or report day:
    the key of their referrals), the cases whose own figures only may move, and the
    referrals that changed — so a referral's transition reads one case and one referral, not
    every referral of its case."""

    cases_with_referrals: set = field(default_factory=set)
    cases: set = field(default_factory=set)
    referrals: set = field(default_factory=set)


def _counts(session: Session, instance) -> bool:
    """Whether a flush of INSTANCE may move a rolled-up figure."""
    if isinstance(instance, Case):
        tracked = TRACKED_CASE
    elif isinstance(instance, Referral):
        tracked = TRACKED_REFERRAL
    else:
        return False
    if instance in session.new or instance in session.deleted:
        return True
    attributes = inspect(instance).attrs
    return any(attributes[name].history.has_changes() for name in tracked)


def _moves(case: Case) -> bool:
    """Whether a change of CASE moves its key (case_key()), and so its referrals' figures."""
    attributes = inspect(case).attrs
    return any(attributes[name].history.has_changes() for name in ("village_code", "created_at"))


def _read(session: Session, reads: _Reads, *, into: Figures, sign: int) -> Figures:
    """The contributions of READS as the database holds them now (inside the flush's
    transaction: before or after its statements), times SIGN, added INTO FIGURES."""
    figures = into
    connection = session.connection()
    whole = sorted(reads.cases_with_referrals)
    referrals = defaultdict(list)
    if whole:
        for row in connection.execute(select(*_REFERRAL_COLUMNS)
                                      .where(Referral.case_id.in_(whole))):
            referrals[row.case_id].append(row)
    case_ids = sorted(reads.cases | reads.cases_with_referrals)
    if case_ids:
        for row in connection.execute(select(*_CASE_COLUMNS).where(Case.id.in_(case_ids))):
            contributions(row, referrals[row.id], into=figures, sign=sign)
    if reads.referrals:
        # a referral of a case read whole above is counted there already
        for row in connection.execute(
                select(*_REFERRAL_COLUMNS, Case.village_code, Case.created_at)
                .join(Case, Case.id == Referral.case_id)
                .where(Referral.id.in_(sorted(reads.referrals)))):
            if row.case_id not in reads.cases_with_referrals:
                referral_contributions(row, case_key(row.village_code, row.created_at),
                                       into=figures, sign=sign)
    return figures


# ---------- folding and rebuilding ----------

def fold(*, connection: Connection, wait: bool = True) -> dict[str, tuple[int, int]] | None:
    """Collapse the delta rows of each key that has several into one row (keys summing to
    zero everywhere are dropped). Returns (rows removed, rows written) per table. Safe beside
    writers and another fold (module docstring); the caller commits. `lindung worker` folds
    every minute (outbox/worker.py), `lindung stats fold` on demand. With WAIT false, on
    PostgreSQL, returns None at once if another fold holds the lock (the worker's loop)."""
    if connection.dialect.name == "postgresql":
        if not wait:
            if not connection.scalar(select(func.pg_try_advisory_xact_lock(FOLD_LOCK))):
                return None
        else:
            connection.execute(select(func.pg_advisory_xact_lock(FOLD_LOCK)))
    result = {}
    for table, keys, counts in ((KlaDay, ("village_code", "day"), DAY_COUNTS),
                                (KlaMonth, ("village_code", "month"), DAY_COUNTS),
                                (KlaReferralDay, REFERRAL_DAY_KEY, REFERRAL_COUNTS),
                                (KlaReferralMonth, REFERRAL_MONTH_KEY, REFERRAL_COUNTS),
                                (KlaDuration, ("village_code", "month", "measure"),
                                 ("durations",))):
        columns = table.__table__.c
        key_columns = [columns[name] for name in keys]
        scattered = (select(*key_columns).group_by(*key_columns)
                     .having(func.count() > 1))
        removed = connection.execute(delete(table.__table__)
                                     .where(tuple_(*key_columns).in_(scattered))
                                     .returning(*key_columns,
                                                *(columns[name] for name in counts))).all()
        sums = defaultdict(Counter)
        for row in removed:
            folded = sums[tuple(row[:len(keys)])]
            if table is KlaDuration:  # a multiset of (day, microseconds)
                for day, microseconds, number in row.durations:
                    folded[(day, microseconds)] += number
                continue
            for name, number in zip(counts, row[len(keys):], strict=True):
                folded[name] += number
        if table is KlaDuration:
            rows = [{**dict(zip(keys, key, strict=True)),
                     "durations": [[*entry, number] for entry, number in sorted(totals.items())
                                   if number]}
                    for key, totals in sorted(sums.items()) if any(totals.values())]
        else:
            rows = [{**dict(zip(keys, key, strict=True)), **totals}
                    for key, totals in sorted(sums.items()) if any(totals.values())]
        _insert_many(connection, table, rows)
        result[table.__tablename__] = (len(removed), len(rows))
    return result


def rebuild(*, connection: Connection) -> dict[str, int]:
    """Recompute every roll-up from the cases and referrals, one kelurahan at a time (the
    memory a kelurahan's histograms take, not a city's). Returns the rows written per table;
    the caller commits. Changes committed meanwhile by others are not lost: run it when no
    one writes (migration, `lindung stats rebuild` in a maintenance window)."""
    for table in TABLES:
        connection.execute(delete(table.__table__))
    written = Counter()
    villages = connection.execute(
        select(Case.village_code).distinct().order_by(Case.village_code)).scalars().all()
    for village in villages:
        figures = Figures()
        keys = {}
        for row in connection.execute(select(*_CASE_COLUMNS).where(
                Case.village_code == village)):
            keys[row.id] = case_key(row.village_code, row.created_at)
            contributions(row, into=figures)
        for row in connection.execute(select(*_REFERRAL_COLUMNS).join(
                Case, Case.id == Referral.case_id).where(Case.village_code == village)):
            referral_contributions(row, keys[row.case_id], into=figures)
        for table, rows in figures.rows().items():
            _insert_many(connection, table, rows)
            written[table.__tablename__] += len(rows)
    return dict(written)


def _insert_many(connection: Connection, table, rows: list[dict]) -> None:
    """ROWS into TABLE: by COPY on PostgreSQL (a city's histograms are many rows), else in
    batches."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        for start in range(0, len(rows), 5000):
            connection.execute(insert(table.__table__), rows[start:start + 5000])
        return
    names = list(rows[0])
    cursor = connection.connection.cursor()
    with cursor.copy(f"COPY {table.__tablename__} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            # COPY would send a Python list as an array: a JSON column takes its text
            copy.write_row([json.dumps(value) if isinstance(value, list) else value
                            for value in (row[name] for name in names)])

