"""The audit trail of a real server (gunicorn, several workers) under concurrent clients, and
a sealer killed with SIGKILL mid-run: nothing acknowledged is missing, the chain verifies; and
`lindung audit verify` fails once the newest events are deleted."""

import os
import signal
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import delete, func, insert, select, text

from api.audit.models import AuditEvent, AuditSubject
from api.db import make_engine, utcnow
from tests.conftest import child_report
from tests.servers import LINDUNG, bearer, running_server

CLIENTS = 16
REQUESTS = 200


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        # the default: a checkpoint file in the server's instance folder
        patch.delenv("LINDUNG_AUDIT_CHECKPOINTS", raising=False)
        with running_server(tmp_path_factory.mktemp("audit"), "lindung_audit",
                            workers=3) as served:
            served["engine"] = make_engine(served["env"]["LINDUNG_DATABASE_URL"])
            yield served
            served["engine"].dispose()


def _lindung(server, *arguments) -> subprocess.CompletedProcess:
    return subprocess.run([LINDUNG, *arguments], env=server["env"], capture_output=True,
                          text=True, timeout=120)


def _verified(server) -> str:
    sealed = _lindung(server, "audit", "seal")
    assert sealed.returncode == 0, sealed.stderr
    verified = _lindung(server, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "unsealed: 0 events" in verified.stdout
    return verified.stdout


def _count(server, query) -> int:
    with server["engine"].connect() as connection:
        return connection.scalar(query)


def test_every_acknowledged_request_of_a_concurrent_load_is_in_the_verified_chain(server):
    staff, reporter = (server["tokens"][name] for name in ("demo_caseworker", "demo_rt_head"))
    run = uuid.uuid4().hex[:8]

    def call(number):
        request_id = f"load-{run}-{number}"
        if number % 4 == 0:
            answer = requests.post(f"{server['base']}/cases", json=child_report(),
                                   headers={**bearer(reporter), "X-Request-ID": request_id},
                                   timeout=60)
        else:
            answer = requests.get(f"{server['base']}/cases", params={"page_size": 5},
                                  headers={**bearer(staff), "X-Request-ID": request_id},
                                  timeout=60)
        return request_id, answer.status_code

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        answers = list(pool.map(call, range(REQUESTS)))
    assert {status for _, status in answers} <= {200, 201}, answers
    # the requests sealed as they ended; whatever a try-lock left behind, `seal` finishes
    with server["engine"].connect() as connection:
        recorded = connection.execute(
            select(AuditEvent.request_id, func.count()).where(
                AuditEvent.request_id.like(f"load-{run}-%")).group_by(AuditEvent.request_id)
        ).all()
    assert dict(recorded) == {request_id: 1 for request_id, _ in answers}
    report = _verified(server)
    assert "audit chain intact" in report and "the newest matched seq" in report
    sealed = _count(server, select(func.count()).where(AuditEvent.seq.is_not(None)))
    assert _count(server, select(func.max(AuditEvent.seq))) == sealed


def test_a_sealer_killed_mid_run_loses_nothing_and_the_next_one_finishes(server):
    # a backlog large enough that the sealer is still at work when it is killed
    with server["engine"].begin() as connection:
        connection.execute(insert(AuditEvent), [
            {"at": utcnow(), "action": "case.read", "outcome": "ok", "details": {},
             "request_id": f"backlog-{number}"} for number in range(3000)])
    sealer = subprocess.Popen([LINDUNG, "audit", "seal", "--follow", "--interval", "0.05"],
                              env=server["env"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while _count(server, select(func.count()).where(
                AuditEvent.request_id.like("backlog-%"), AuditEvent.seq.is_not(None))) == 0:
            assert time.monotonic() < deadline, "the sealer sealed nothing"
            time.sleep(0.02)
        os.kill(sealer.pid, signal.SIGKILL)
        sealer.wait(timeout=10)
        left = _count(server, select(func.count()).where(AuditEvent.seq.is_(None)))
    finally:
        sealer.kill()
        sealer.wait(timeout=10)
    assert sealer.returncode == -signal.SIGKILL
    assert left > 0  # killed mid-run, with part of the backlog sealed and part not
    requests.get(f"{server['base']}/cases", headers=bearer(server["tokens"]["demo_caseworker"]),
                 timeout=30)
    assert "audit chain intact" in _verified(server)
    assert _count(server, select(func.count()).where(AuditEvent.seq.is_(None))) == 0
    assert _count(server, select(func.count()).where(
        AuditEvent.request_id.like("backlog-%"))) == 3000


def test_verify_fails_once_the_newest_sealed_events_are_deleted(server):
    assert "audit chain intact" in _verified(server)
    postgresql = server["engine"].dialect.name == "postgresql"
    with server["engine"].begin() as connection:
        if postgresql:  # as the database's owner, who can lift the triggers
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            connection.execute(text("ALTER TABLE audit_event_subjects DISABLE TRIGGER USER"))
        newest = select(AuditEvent.id).where(
            AuditEvent.seq > select(func.max(AuditEvent.seq)).scalar_subquery() - 3)
        connection.execute(delete(AuditSubject).where(AuditSubject.event_id.in_(newest)))
        connection.execute(delete(AuditEvent).where(AuditEvent.id.in_(newest)))
        if postgresql:
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
            connection.execute(text("ALTER TABLE audit_event_subjects ENABLE TRIGGER USER"))
    verified = _lindung(server, "audit", "verify")
    assert verified.returncode == 1
    assert "sealed events were deleted" in verified.stderr
