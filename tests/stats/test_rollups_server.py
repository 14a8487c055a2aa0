"""The KLA roll-ups under concurrent reports to a real server (gunicorn workers, the
database of LINDUNG_TEST_DATABASE_URL's server or a SQLite file): many reports in one kelurahan
on one day all succeed, and the day's roll-up counts each exactly once."""

import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from api.cases.models import Case
from api.regions import calendar
from api.stats.models import KlaDay
from tests.conftest import child_report
from tests.databases import database_of_its_own
from tests.servers import LINDUNG, bearer, running_server
from tests.stats.test_rollups import summed

KELURAHAN = "6471011002"  # Lamaru, Balikpapan Timur
REPORTS = 48


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("rollups-server")
    with database_of_its_own(directory, "lindung_rollups") as url, \
            running_server(directory, "rollups", workers=3, database_url=url) as served:
        engine = create_engine(url)
        yield served, engine
        engine.dispose()


def _report(server, number: int) -> int:
    body = child_report(village_code=KELURAHAN, child={
        "name": f"Anak Lamaru {number}", "sex": "female", "birth_date": "2016-03-04"})
    return requests.post(f"{server['base']}/cases", json=body, timeout=120,
                         headers=bearer(server["tokens"]["demo_teacher"])).status_code


def _reported_today(session, today):
    start = calendar.day_start(today, KELURAHAN)
    cases = session.scalar(select(func.count()).select_from(Case).where(
        Case.village_code == KELURAHAN, Case.created_at >= start))
    rolled_up = session.scalar(select(func.coalesce(func.sum(KlaDay.violence), 0)).where(
        KlaDay.village_code == KELURAHAN, KlaDay.day == today))
    return cases, rolled_up


def test_concurrent_reports_in_one_kelurahan_are_each_counted_once(server):
    served, engine = server
    today = datetime.now(ZoneInfo("Asia/Makassar")).date()
    with Session(engine) as session:
        cases_before, rolled_before = _reported_today(session, today)
    assert cases_before == rolled_before
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda n: _report(served, n), range(REPORTS)))
    assert statuses == [201] * REPORTS
    with Session(engine) as session:
        cases, rolled_up = _reported_today(session, today)
        assert cases == cases_before + REPORTS
        assert rolled_up == rolled_before + REPORTS
        kept = summed(session)
    # folding beside the running server, and a rebuild, keep the same figures
    for command, said in (("fold", "folded: kla_days "), ("rebuild", "rebuilt: ")):
        done = subprocess.run([LINDUNG, "stats", command], env=served["env"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and done.stdout.startswith(said), done.stderr
        with Session(engine) as session:
            assert summed(session) == kept
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(KlaDay).where(
            KlaDay.village_code == KELURAHAN, KlaDay.day == today)) == 1
    supervisor = served["tokens"]["demo_supervisor"]
    answer = requests.get(f"{served['base']}/stats/kla", headers=bearer(supervisor), timeout=60,
                          params={"area": "647101", "from": today.isoformat(),
                                  "to": today.isoformat()})
    assert answer.status_code == 200, answer.text
    lamaru = next(row for row in answer.json()["kelurahan"] if row["code"] == KELURAHAN)
    assert lamaru["violence_cases"] == cases


def test_a_rolled_back_report_leaves_the_rollups_unchanged(server):
    served, engine = server
    with Session(engine) as session:
        before = summed(session)
        case = session.scalars(select(Case).where(Case.village_code == KELURAHAN)
                               .limit(1)).one()
        case.village_code = "6471011001"  # a correction moving the case to Manggar
        session.flush()
        assert summed(session) != before
        session.rollback()
    with Session(engine) as session:
        assert summed(session) == before
