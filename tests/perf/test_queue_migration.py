"""The migration that stores the staff queue's order fills it for the cases already there,
exactly as every write of a case keeps it (api/cases/models.py _keep_queue_place)."""

import uuid
from datetime import timedelta

from sqlalchemy import inspect, select

from api.cases.models import Case
from api.db import utcnow
from api.migrate import downgrade, upgrade
from api.vocabularies.codes import CaseStatus, ClosureReason, RiskLevel
from tests.conftest import BALIKPAPAN, child_report

BEFORE = "d7e8f9a0b1c2"  # the revision before the queue's columns


def test_upgrade_fills_the_queue_order_of_existing_cases(client, session, connection,
                                                         make_user, database_url):
    worker = make_user("caseworker", [BALIKPAPAN])
    ids = [client.post("/api/v1/cases", json=child_report(source="hotline", **extra),
                       headers=worker.headers).json["id"]
           for extra in ({}, {"emergency": True}, {}, {}, {})]
    cases = [session.get(Case, uuid.UUID(case_id)) for case_id in ids]
    now = utcnow()
    cases[2].status, cases[2].risk_level = CaseStatus.TRIAGED, RiskLevel.LOW
    cases[2].triaged_at, cases[2].response_due_at = now, now + timedelta(hours=24)
    cases[3].status, cases[3].triaged_at = CaseStatus.IN_SERVICE, now
    cases[4].status, cases[4].closure_reason = CaseStatus.CLOSED, ClosureReason.RESOLVED
    cases[4].closed_at = now
    session.commit()
    kept = dict(session.execute(select(Case.id, Case.queue_rank)).all())
    due = dict(session.execute(select(Case.id, Case.queue_due_at)).all())
    assert [kept[case.id] for case in cases] == [2, 0, 2, 3, 4]

    downgrade(database_url, connection=connection, revision=BEFORE)
    assert "queue_rank" not in {column["name"] for column in
                                inspect(connection).get_columns("cases")}
    upgrade(database_url, connection=connection)
    session.expire_all()
    assert dict(session.execute(select(Case.id, Case.queue_rank)).all()) == kept
    assert dict(session.execute(select(Case.id, Case.queue_due_at)).all()) == due
