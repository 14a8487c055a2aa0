"""The KLA roll-ups follow every change in its own transaction, and equal a recomputation from
the cases (stats/rollups.py)."""

import random
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.cases.models import Case
from api.children.models import Child
from api.referrals.models import Referral
from api.stats import rollups
from api.stats.models import KlaDay, KlaDuration, KlaMonth, KlaReferralDay, KlaReferralMonth
from api.stats.service import _middle
from api.vocabularies.codes import (
    CaseStatus,
    Category,
    ClosureReason,
    ReferralStatus,
    Role,
    Service,
    Sex,
    Source,
    ViolenceType,
)
from tests.conftest import BALIKPAPAN, child_report

WITA = ZoneInfo("Asia/Makassar")
VILLAGES = [f"647101100{n}" for n in (1, 2, 3, 4)]
MANGGAR, LAMARU = VILLAGES[0], VILLAGES[1]
AGENCIES = ["DINKES", "DINSOS"]
KEYS = {KlaDay: ("village_code", "day"),
        KlaMonth: ("village_code", "month"),
        KlaReferralDay: ("village_code", "day", "agency_code", "status"),
        KlaReferralMonth: ("village_code", "month", "agency_code", "status"),
        KlaDuration: ("village_code", "month", "measure")}


def summed(session) -> dict:
    """Every roll-up key with its summed non-zero counts, per table; kla_durations by
    (village_code, day, measure, microseconds)."""
    tables = {}
    durations = defaultdict(Counter)
    for village, month, measure, entries in session.execute(
            select(KlaDuration.village_code, KlaDuration.month, KlaDuration.measure,
                   KlaDuration.durations)):
        for day, microseconds, number in entries:
            durations[(village, month.replace(day=day), measure, microseconds)]["cases"] += number
    tables["kla_durations"] = {key: +counter for key, counter in durations.items() if +counter}
    for table, keys in KEYS.items():
        if table is KlaDuration:
            continue
        columns = table.__table__.c
        counts = [column for column in columns if column.name not in ("id", *keys)]
        totals = defaultdict(Counter)
        for row in session.execute(select(*(columns[name] for name in keys), *counts)):
            for column, number in zip(counts, row[len(keys):], strict=True):
                totals[tuple(row[:len(keys)])][column.name] += number
        tables[table.__tablename__] = {key: +counter for key, counter in totals.items()
                                       if +counter}
    return tables


def recomputed(session) -> dict:
    """The roll-ups rebuilt from the cases (in a savepoint that is then rolled back)."""
    savepoint = session.begin_nested()
    rollups.rebuild(connection=session.connection())
    result = summed(session)
    savepoint.rollback()
    return result


@pytest.fixture
def reporter(make_user):
    return make_user("caseworker", [BALIKPAPAN])


class History:
    """A random but realistic life of cases: reports, triages, corrections, closures,
    reopenings, referrals and their transitions, as the services make them."""

    def __init__(self, session, reporter_id, seed):
        self.session, self.reporter_id, self.random = session, reporter_id, random.Random(seed)
        self.child = Child(name="Anak", sex=Sex.MALE, birth_date=date(2018, 1, 1),
                           village_code=MANGGAR)
        session.add(self.child)
        session.flush()
        self.cases, self.referrals, self.number = [], [], 0

    def moment(self) -> datetime:
        start = datetime(2026, 1, 1, tzinfo=WITA)
        return start + timedelta(seconds=self.random.randrange(200 * 86400),
                                 microseconds=self.random.randrange(1_000_000))

    def report(self):
        self.number += 1
        created = self.moment()
        violence = self.random.random() < 0.7
        case = Case(
            reference=f"KS-6471-2026-{self.number:06d}",
            category=Category.VIOLENCE if violence else Category.STUNTING_RISK,
            violence_types=(self.random.sample([kind.value for kind in ViolenceType], 2)
                            if violence else []),
            village_code=self.random.choice(VILLAGES), source=Source.HOTLINE,
            reporter_id=self.reporter_id, reporter_role=Role.CASEWORKER,
            child_id=self.child.id, triage_due_at=created + timedelta(hours=24),
            created_at=created, updated_at=created)
        self.session.add(case)
        self.cases.append(case)

    def triage(self):
        waiting = [case for case in self.cases if case.triaged_at is None
                   and case.status is CaseStatus.REPORTED]
        if waiting:
            case = self.random.choice(waiting)
            case.status = CaseStatus.TRIAGED
            case.triaged_at = case.created_at + timedelta(
                minutes=self.random.randrange(1, 3 * 24 * 60), microseconds=7)

    def correct(self):
        if self.cases:
            case = self.random.choice(self.cases)
            if self.random.random() < 0.6:  # the case moves to another kelurahan
                case.village_code = self.random.choice(
                    [code for code in VILLAGES if code != case.village_code])
            elif case.category is Category.VIOLENCE:
                case.violence_types = [self.random.choice(list(ViolenceType)).value]
            else:
                case.category = Category.VIOLENCE
                case.violence_types = ["neglect"]

    def close(self):
        closable = [case for case in self.cases if case.status is not CaseStatus.CLOSED
                    and not any(referral.case_id == case.id and referral.status in (
                        ReferralStatus.PENDING, ReferralStatus.ACCEPTED)
                        for referral in self.referrals)]
        if closable:
            case = self.random.choice(closable)
            case.status = CaseStatus.CLOSED
            case.closure_reason = self.random.choice(list(ClosureReason))
            case.closed_at = case.created_at + timedelta(days=self.random.randrange(1, 60))

    def reopen(self):
        closed = [case for case in self.cases if case.status is CaseStatus.CLOSED]
        if closed:
            case = self.random.choice(closed)
            case.status = CaseStatus.TRIAGED if case.triaged_at else CaseStatus.REPORTED
            case.closed_at = case.closure_reason = None

    def refer(self):
        open_cases = [case for case in self.cases if case.status is not CaseStatus.CLOSED
                      and case.id is not None]
        if open_cases:
            case = self.random.choice(open_cases)
            self.number += 1
            referral = Referral(
                case_id=case.id, agency_code=self.random.choice(AGENCIES),
                service=Service.MEDICAL_EXAMINATION if self.number % 2 else
                Service.SOCIAL_ASSISTANCE, status=ReferralStatus.PENDING,
                due_at=case.created_at + timedelta(hours=72), created_by=self.reporter_id,
                sync_seq=10_000 + self.number, rule_id=f"r{self.number}")
            # one open referral per case, agency and service
            if not any(other.case_id == case.id and other.agency_code == referral.agency_code
                       and other.service == referral.service
                       and other.status in (ReferralStatus.PENDING, ReferralStatus.ACCEPTED)
                       for other in self.referrals):
                self.session.add(referral)
                self.referrals.append(referral)

    def move_referral(self):
        if not self.referrals:
            return
        referral = self.random.choice(self.referrals)
        case = next(case for case in self.cases if case.id == referral.case_id)
        if referral.status is ReferralStatus.PENDING:
            if self.random.random() < 0.7:
                referral.status = ReferralStatus.ACCEPTED
                referral.accepted_at = case.created_at + timedelta(
                    hours=self.random.randrange(1, 150))
                if case.first_accepted_at is None or referral.accepted_at < \
                        case.first_accepted_at:
                    case.first_accepted_at = referral.accepted_at
            else:
                referral.status = ReferralStatus.DECLINED
        elif referral.status is ReferralStatus.ACCEPTED:
            referral.status = ReferralStatus.COMPLETED

    def step(self):
        action = self.random.choice([self.report] * 4 + [self.triage] * 2 + [
            self.correct, self.close, self.reopen, self.refer, self.refer,
            self.move_referral, self.move_referral])
        action()
        chance = self.random.random()
        if chance < 0.3:
            self.session.commit()
        elif chance < 0.6:
            self.session.flush()
        elif chance < 0.7:
            # what a later request sees: attributes loaded again, or set without loading
            self.session.commit()
            self.session.expire_all()


def test_rollups_equal_a_recomputation_after_random_changes(session, reporter):
    history = History(session, reporter.id, seed=13)
    for number in range(1, 241):
        history.step()
        if number % 60 == 0:
            session.flush()
            assert summed(session) == recomputed(session), f"after {number} changes"
    session.commit()
    kept = summed(session)
    assert kept == recomputed(session)
    # the history touched every kind of figure
    days = Counter()
    for counts in kept["kla_days"].values():
        days.update(counts)
    assert {"violence", "stunting_risk", "triaged_on_time", "triaged_late", "open_cases",
            "type_neglect"} <= {name for name, number in days.items() if number}
    assert any(name.startswith("closed_") for name in days)
    statuses = {key[3] for key in kept["kla_referral_days"]}
    assert {"pending", "accepted"} <= statuses
    assert {key[2] for key in kept["kla_durations"]} == {"triage", "acceptance"}


def test_fold_keeps_the_sums_and_leaves_one_row_per_key(session, reporter):
    history = History(session, reporter.id, seed=5)
    for _ in range(120):
        history.step()
    session.commit()
    before = summed(session)
    rows_before = session.scalar(select(func.count()).select_from(KlaDay))
    folded = rollups.fold(connection=session.connection())
    assert summed(session) == before
    assert folded["kla_days"][0] > folded["kla_days"][1] > 0
    assert session.scalar(select(func.count()).select_from(KlaDay)) < rows_before
    for table, keys in KEYS.items():
        columns = [getattr(table, name) for name in keys]
        assert session.scalar(select(func.count()).select_from(
            select(*columns).group_by(*columns).having(func.count() > 1).subquery())) == 0
    assert rollups.fold(connection=session.connection())["kla_days"] == (0, 0)


def test_rolled_back_change_leaves_the_rollups_unchanged(session, reporter):
    history = History(session, reporter.id, seed=7)
    for _ in range(30):
        history.report()
    session.commit()
    before = summed(session)
    savepoint = session.begin_nested()
    case = history.cases[0]
    case.village_code = VILLAGES[3] if case.village_code != VILLAGES[3] else VILLAGES[2]
    history.report()
    session.flush()
    assert summed(session) != before  # the flush wrote its deltas
    savepoint.rollback()
    assert summed(session) == before == recomputed(session)


def test_services_keep_the_rollups(client, session, reporter, make_user):
    """Reports, triage, a correction moving the case, routing, an agency's acceptance and
    a closure through the API: the KLA answer and the roll-ups follow each of them."""
    def act(url, body, resource, method="post"):
        etag = client.get(resource, headers=reporter.headers).headers["ETag"]
        response = getattr(client, method)(url, json=body,
                                           headers={**reporter.headers, "If-Match": etag})
        assert response.status_code == 200, response.json
        return response.json

    ids = [client.post("/api/v1/cases", json=child_report(
        source="hotline", child={"name": f"Anak {n}", "sex": "male",
                                 "birth_date": "2017-05-04"}),
        headers=reporter.headers).json["id"] for n in range(3)]
    url = f"/api/v1/cases/{ids[0]}"
    act(f"{url}/triage", {"risk_level": "high"}, url)
    act(url, {"village_code": LAMARU}, url, method="patch")
    act(f"{url}/route", None, url)
    dinsos = make_user("agency_officer", agency="DINSOS")
    referral = next(r for r in client.get("/api/v1/referrals", query_string={
        "case_id": ids[0]}, headers=reporter.headers).json if r["agency"] == "DINSOS")
    referral_url = f"/api/v1/referrals/{referral['id']}"
    etag = client.get(referral_url, headers=dinsos.headers).headers["ETag"]
    assert client.post(f"{referral_url}/transitions", json={"to": "accepted"}, headers={
        **dinsos.headers, "If-Match": etag}).status_code == 200
    other = f"/api/v1/cases/{ids[1]}"
    act(f"{other}/triage", {"risk_level": "low"}, other)
    act(f"{other}/transitions", {"to": "closed", "reason": "unfounded"}, other)

    assert summed(session) == recomputed(session)
    supervisor = make_user("supervisor", [BALIKPAPAN])
    today = datetime.now(WITA).date()
    body = client.get("/api/v1/stats/kla", headers=supervisor.headers, query_string={
        "area": "647101", "from": today.isoformat(), "to": today.isoformat()}).json
    rows = {row["code"]: row for row in body["kelurahan"]}
    assert (rows[MANGGAR]["violence_cases"], rows[LAMARU]["violence_cases"]) == (2, 1)
    assert rows[LAMARU]["triaged_cases"] == rows[LAMARU]["accepted_cases"] == 1
    assert rows[MANGGAR]["open_cases"] == 1 and rows[MANGGAR]["triaged_cases"] == 1
    assert body["totals"]["closed_by_reason"]["unfounded"] == 1
    assert {o["agency"]: o["accepted"] for o in body["referral_outcomes"]}["DINSOS"] == 1
    assert body["sla"]["acceptance_on_time"] == 1


def test_answer_is_the_same_folded_or_rebuilt(client, session, reporter, make_user):
    history = History(session, reporter.id, seed=21)
    for _ in range(150):
        history.step()
    session.commit()
    supervisor = make_user("supervisor", [BALIKPAPAN])
    query = {"area": "647101", "from": "2026-01-01", "to": "2026-06-30"}

    def answer():
        return client.get("/api/v1/stats/kla", headers=supervisor.headers,
                          query_string=query).json

    incremental = answer()
    assert incremental["totals"]["violence_cases"] > 0
    rollups.fold(connection=session.connection())
    session.commit()
    assert answer() == incremental
    rollups.rebuild(connection=session.connection())
    session.commit()
    assert answer() == incremental


@pytest.mark.parametrize(("histogram", "median"), [
    ([(5, 1)], 5), ([(1, 1), (3, 1)], 2), ([(1, 2), (5, 1)], 1), ([(1, 1), (2, 2), (9, 1)], 2),
    ([(1, 1), (4, 1), (6, 1), (7, 1)], 5)])
def test_median_of_a_histogram(histogram, median):
    assert _middle(histogram) == median


def test_migration_fills_the_rollups_from_existing_cases(connection, database_url, session,
                                                         reporter):
    from api.migrate import downgrade, upgrade

    history = History(session, reporter.id, seed=3)
    for _ in range(80):
        history.step()
    session.commit()
    kept = summed(session)
    assert kept["kla_days"] and kept["kla_durations"]
    session.close()
    # inside the test's transaction: DDL is transactional on both backends and rolled back
    downgrade(database_url, connection=connection, revision="e8f9a0b1c2d3")
    upgrade(database_url, connection=connection)
    with Session(bind=connection, join_transaction_mode="create_savepoint") as fresh:
        assert summed(fresh) == kept


@pytest.mark.parametrize(("first", "last"), [
    ("2026-01-15", "2026-04-10"),  # partial months at both edges, whole months between
    ("2026-02-01", "2026-02-28"),  # one whole month only
    ("2026-01-01", "2026-05-20"),  # whole months, then a partial one
    ("2026-03-02", "2026-03-30"),  # inside one month
    ("2026-02-16", "2026-03-12"),  # across a month's end, no whole month
])
def test_whole_months_and_edge_days_give_the_cases_own_figures(client, session, reporter,
                                                               make_user, first, last):
    """Month rows for the whole months, day rows for the edges: the answer equals what the
    cases and referrals themselves give (exact medians included)."""
    history = History(session, reporter.id, seed=17)
    for _ in range(200):
        history.step()
    session.commit()
    supervisor = make_user("supervisor", [BALIKPAPAN])
    body = client.get("/api/v1/stats/kla", headers=supervisor.headers, query_string={
        "area": "647101", "from": first, "to": last}).json
    first_day, last_day = date.fromisoformat(first), date.fromisoformat(last)
    cases = [case for case in history.cases
             if first_day <= case.created_at.astimezone(WITA).date() <= last_day]
    assert cases
    rows = {row["code"]: row for row in body["kelurahan"]}
    for village in VILLAGES:
        mine = [case for case in cases if case.village_code == village]
        triage = [(case.triaged_at - case.created_at) // timedelta(microseconds=1)
                  for case in mine if case.triaged_at is not None]
        assert rows[village]["violence_cases"] == sum(
            case.category is Category.VIOLENCE for case in mine)
        assert rows[village]["triaged_cases"] == len(triage)
        assert rows[village]["median_days_to_triage"] == (
            round(median(triage) / 86_400_000_000, 1) if triage else None)
    closed = Counter(case.closure_reason.value for case in history.cases
                     if case.closed_at is not None and case.closure_reason is not None
                     and first_day <= case.closed_at.astimezone(WITA).date() <= last_day)
    assert body["totals"]["closed_by_reason"] == {
        reason.value: closed[reason.value] for reason in ClosureReason}
    ids = {case.id for case in cases}
    referred = Counter(referral.agency_code for referral in history.referrals
                       if referral.case_id in ids)
    assert {outcome["agency"]: outcome["referrals"]
            for outcome in body["referral_outcomes"]} == +referred
    monthly = Counter(f"{case.created_at.astimezone(WITA):%Y-%m}" for case in cases
                      if case.category is Category.VIOLENCE)
    assert {month["month"]: month["violence_cases"] for month in body["monthly"]} == {
        month["month"]: monthly[month["month"]] for month in body["monthly"]}


def test_the_worker_folds_unless_another_fold_holds_the_lock(app, engine, session, reporter):
    from dataclasses import replace

    from api.cases.sla import Deadlines
    from api.outbox.settings import OutboxSettings
    from api.outbox.worker import Worker

    history = History(session, reporter.id, seed=9)
    for _ in range(60):
        history.step()
    session.commit()
    before = summed(session)
    worker = Worker(app.extensions["lindung.db"], replace(OutboxSettings()), Deadlines(),
                    name="test-worker")
    if engine.dialect.name == "postgresql":
        # another worker's fold in progress: this one skips at once rather than queueing
        with engine.connect() as other, other.begin():
            other.execute(select(func.pg_advisory_xact_lock(rollups.FOLD_LOCK)))
            assert worker.fold() is None
    folded = worker.fold()
    assert folded["kla_days"][0] > folded["kla_days"][1] > 0
    assert folded["kla_months"][0] > folded["kla_months"][1] > 0
    assert summed(session) == before
