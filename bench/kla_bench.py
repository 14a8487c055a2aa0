"""Benchmark of GET /stats/kla on PostgreSQL with a million cases.

Fills a database of its own (default: lindung_bench beside LINDUNG_TEST_DATABASE_URL's) with
realistic cases spread over Kota Balikpapan, Banjarmasin and Banjarbaru over five years, with
their children, referrals and posyandu measurements, by COPY; rebuilds the KLA roll-ups from
them (COPY bypasses the flush listener that keeps them: api/stats/rollups.py); then times the
KLA statistics (read from the roll-ups) of one city-year and of one kecamatan-year, against a
baseline measured in the same run (a plain COUNT of that city-year's cases), and prints the
query plans' index use.

    .venv/bin/python bench/kla_bench.py [--cases 1000000] [--keep] [--reuse]

--keep leaves the filled database behind; --reuse times it again without refilling.
"""

import argparse
import io
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, make_url, select, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.cases.models import Case  # noqa: E402
from api.migrate import upgrade  # noqa: E402
from api.regions import calendar  # noqa: E402
from api.regions.models import Region  # noqa: E402
from api.regions.service import (  # noqa: E402
    BUNDLED_REGIONS,
    import_regions,
    read_region_file,
    within_prefix,
)
from api.stats import rollups  # noqa: E402
from api.stats import service as stats  # noqa: E402
from api.vocabularies.codes import RegionLevel  # noqa: E402

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
YEARS = (2022, 2023, 2024, 2025, 2026)
VIOLENCE_TYPES = ["physical", "psychological", "sexual", "neglect", "exploitation", "other"]
AGENCY_SERVICES = [("UPTD_PPA", "psychosocial_support"), ("DINSOS", "social_assistance"),
                   ("DINKES", "medical_examination"), ("DISDIK", "school_support")]
CLOSURES = ["resolved", "resolved", "resolved", "unfounded", "duplicate", "transferred_out"]
EPOCH = datetime(YEARS[0], 1, 1, tzinfo=UTC)
SPAN_SECONDS = int((datetime(2026, 11, 1, tzinfo=UTC) - EPOCH).total_seconds())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--database", default="lindung_bench")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true",
                        help="time an existing database (from --keep) without refilling it")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    url = make_url(args.server).set(database=args.database).render_as_string(
        hide_password=False)
    if args.reuse:
        engine = create_engine(url)
        measure(engine, args.runs)
        engine.dispose()
        return
    admin = create_engine(args.server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{args.database}"'))
    try:
        upgrade(url)
        engine = create_engine(url)
        started = time.perf_counter()
        loaded = fill(engine, args.cases)
        print(f"loaded {loaded} in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        print(f"rolled up into {rebuild(engine)} in {time.perf_counter() - started:.0f} s")
        measure(engine, args.runs)
        engine.dispose()
    finally:
        if not args.keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{args.database}" '
                                        "WITH (FORCE)"))
        admin.dispose()


def fill(engine, case_count: int) -> str:
    """Regions, one reporter, and CASE_COUNT cases with children, referrals, measurements."""
    random.seed(2026)
    with Session(engine) as session:
        import_regions(session=session, rows=read_region_file(BUNDLED_REGIONS))
        session.commit()
        villages = session.scalars(select(Region.code).where(
            Region.level == RegionLevel.VILLAGE)).all()
    reporter = uuid.uuid4()
    children, cases, referrals, measurements = (io.StringIO() for _ in range(4))
    child_ids = []
    for _ in range(case_count * 2 // 5):  # some children appear in several cases
        child_id, village = uuid.uuid4(), random.choice(villages)
        born = date(2010, 1, 1) + timedelta(days=random.randrange(5800))
        children.write(f"{child_id}\tAnak\t\\N\t{random.choice(['male', 'female'])}\t{born}\t"
                       f"f\t\\N\t\\N\t{village}\t\\N\t\\N\t{EPOCH}\t{EPOCH}\t1\n")
        child_ids.append((child_id, village))
    sequence = 0
    for number in range(case_count):
        case_id = uuid.uuid4()
        child_id, village = random.choice(child_ids)
        created = EPOCH + timedelta(seconds=random.randrange(SPAN_SECONDS))
        violence = random.random() < 0.7
        category = "violence" if violence else "stunting_risk"
        types = ('["' + '","'.join(random.sample(VIOLENCE_TYPES, random.randint(1, 2))) + '"]'
                 if violence else "[]")
        triaged = created + timedelta(hours=random.expovariate(1 / 14))
        old = (datetime(2026, 11, 1, tzinfo=UTC) - created).days > 90
        closed = created + timedelta(days=random.randint(10, 80)) if old else None
        status = "closed" if closed else random.choice(["triaged", "referred", "in_service"])
        reason = random.choice(CLOSURES) if closed else "\\N"
        first_accepted = triaged + timedelta(hours=1 + random.expovariate(1 / 30))
        # the staff queue's place (cases/models.py _keep_queue_place): a response due while
        # triaged or referred, none in service; closed last
        awaiting = status in ("triaged", "referred")
        rank = 4 if closed else (2 if awaiting else 3)
        queue_due = triaged + timedelta(hours=6) if awaiting else created
        cases.write(
            f"{case_id}\tKS-{village[:4]}-{created.year}-{number:07d}\t{category}\t{status}\t"
            f"{reason}\t{random.choice(['high', 'medium', 'low'])}\tf\tf\t{types}\t[]\t\\N\t"
            f"\\N\t\\N\t\\N\t{village}\t\\N\t\\N\t\\N\tcommunity\t{reporter}\trt_head\t\\N\t"
            f"{child_id}\t\\N\t{created + timedelta(hours=24)}\t{triaged}\t"
            f"{triaged + timedelta(hours=6)}\t{first_accepted}\t{created}\t{created}\t"
            f"{closed if closed else chr(92) + 'N'}\t1\t{rank}\t{queue_due}\n")
        for agency, service in random.sample(AGENCY_SERVICES, random.randint(1, 2)):
            sequence += 1
            made = triaged + timedelta(hours=1)
            accepted = made + timedelta(hours=random.expovariate(1 / 30))
            done = closed is not None or random.random() < 0.8
            referrals.write(
                f"{uuid.uuid4()}\t{case_id}\t{agency}\t{service}\t"
                f"{'completed' if done else 'pending'}\t\\N\t\\N\t\\N\t\\N\t\\N\t"
                f"{made + timedelta(hours=72)}\t{accepted if done else chr(92) + 'N'}\t"
                f"{reporter}\t{made}\t{made}\t{sequence}\t1\n")
        if not violence:
            on = created.date()
            measurements.write(
                f"{uuid.uuid4()}\t{child_id}\t{on}\t400\t8.0\t70.0\tlying\t\\N\t"
                f"{random.gauss(-1.5, 1.2):.2f}\t{random.gauss(-1, 1.1):.2f}\t"
                f"{random.gauss(-0.5, 1.1):.2f}\tnormal\tnormal\tnormal\t{case_id}\t"
                f"{reporter}\t{created}\t[]\n")
    with engine.raw_connection() as raw:
        cursor = raw.cursor()
        cursor.execute("INSERT INTO users (id, username, role, active, created_at) "
                       "VALUES (%s, 'bench', 'rt_head', true, now())", (str(reporter),))
        children_columns = ("(id, name, nik, sex, birth_date, birth_date_estimated, school, "
                            "disability, village_code, rw, rt, created_at, updated_at, version)")
        # columns named: a column added later (with its default) must not shift the rows
        measurement_columns = ("(id, child_id, measured_on, age_days, weight_kg, height_cm, "
                               "position, muac_cm, haz, waz, whz, haz_category, waz_category, "
                               "whz_category, case_id, recorded_by, created_at, flags)")
        case_columns = (
            "(id, reference, category, status, closure_reason, risk_level, emergency, "
            "attention_flagged, violence_types, tags, incident_date, incident_place, "
            "description, perpetrator_relation, village_code, rw, rt, address, source, "
            "reporter_id, reporter_role, assigned_to, child_id, household_id, triage_due_at, "
            "triaged_at, response_due_at, first_accepted_at, created_at, updated_at, "
            "closed_at, version, queue_rank, queue_due_at)")
        referral_columns = ("(id, case_id, agency_code, service, status, rule_id, note, "
                            "reason, outcome, external_reference, due_at, accepted_at, "
                            "created_by, created_at, updated_at, sync_seq, version)")
        for table, buffer in ((f"children {children_columns}", children),
                              (f"cases {case_columns}", cases),
                              (f"referrals {referral_columns}", referrals),
                              (f"measurements {measurement_columns}", measurements)):
            buffer.seek(0)
            with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                while chunk := buffer.read(1 << 20):
                    copy.write(chunk)
        # the feed continues after the positions given here (referrals/feed.py)
        cursor.execute("INSERT INTO referral_feed_counter (id, last_position) VALUES (1, %s) "
                       "ON CONFLICT (id) DO UPDATE SET last_position = excluded.last_position",
                       (sequence,))
        raw.commit()
        # what autovacuum does on a live database: statistics, and a visibility map so the
        # covering indexes answer without visiting the table
        raw.driver_connection.autocommit = True
        cursor.execute("VACUUM ANALYZE")
    with Session(engine) as session:
        counts = {name: session.scalar(text(f"SELECT count(*) FROM {name}"))
                  for name in ("cases", "children", "referrals", "measurements")}
    return ", ".join(f"{number:,} {name}" for name, number in counts.items())


def rebuild(engine) -> str:
    """The KLA roll-ups recomputed from the loaded cases (`lindung stats rebuild`)."""
    with Session(engine) as session:
        written = rollups.rebuild(connection=session.connection())
        session.commit()
    with engine.raw_connection() as raw:
        raw.driver_connection.autocommit = True
        raw.cursor().execute("VACUUM ANALYZE kla_days, kla_months, kla_referral_days, "
                             "kla_referral_months, kla_durations")
    return ", ".join(f"{rows:,} {table}" for table, rows in written.items())


def measure(engine, runs: int) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    scenarios = [("Kota Banjarmasin (6371), 2025", "6371", date(2025, 1, 1), date(2025, 12, 31)),
                 ("Kota Balikpapan (6471), 2025", "6471", date(2025, 1, 1), date(2025, 12, 31)),
                 ("Kecamatan Balikpapan Timur (647101), 2025", "647101", date(2025, 1, 1),
                  date(2025, 12, 31))]
    print(f"\n{'scenario':<44} {'baseline ms':>12} {'KLA ms (roll-ups)':>18} {'ratio':>7}")
    for label, code, first, last in scenarios:
        with Session(engine) as session:
            period = stats.Period(first, last, calendar.zone_of(code))
            baseline, kla, figures = _time_scenario(session, code, period, now, runs)
        print(f"{label:<44} {baseline:>12.1f} {kla:>18.1f} {kla / baseline:>6.1f}x   "
              f"({figures['totals']['violence_cases']:,} violence cases, "
              f"{figures['kelurahan_count']} kelurahan)")
    with engine.connect() as connection:
        plan = connection.execute(text(
            "EXPLAIN SELECT village_code, count(*) FROM cases WHERE village_code BETWEEN "
            "'6371000000' AND '6371999999' AND created_at >= '2025-01-01' AND created_at < "
            "'2026-01-01' GROUP BY village_code")).scalars().all()
    print("\nplan of the per-kelurahan count (index use):")
    print("\n".join(f"  {line}" for line in plan))


def _time_scenario(session, code, period, now, runs):
    """Median milliseconds of the baseline COUNT and of the whole KLA answer."""
    area = session.get(Region, code)
    counting = (select(func.count()).select_from(Case).where(
        within_prefix(Case.village_code, code), Case.created_at >= period.start,
        Case.created_at < period.end))
    baseline = _median_ms(runs, lambda: session.scalar(counting))
    kla = _median_ms(runs, lambda: stats.kla_statistics(session=session, area=area,
                                                         period=period, now=now))
    return baseline, kla, stats.kla_statistics(session=session, area=area, period=period,
                                               now=now)


def _median_ms(runs: int, call) -> float:
    call()  # warm the cache: steady state is what a dashboard sees
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


if __name__ == "__main__":
    main()
