"""`lindung worker` processes for real: several at once on PostgreSQL (one on SQLite), one
killed mid-batch, one stopped with SIGTERM; the receiver counts every event by webhook-id."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api import create_app
from api.agencies.models import Agency
from api.migrate import upgrade
from api.outbox.models import Delivery, DeliveryStatus
from api.outbox.service import new_webhook_secret, record_event
from tests.databases import database_of_its_own
from tests.outbox.receivers import Receiver

LINDUNG = str(Path(sys.executable).with_name("lindung"))
KEYS = 100  # referrals; each gets its events in order
CONCURRENCY = 3  # threads per worker


@pytest.fixture
def outbox(tmp_path):
    """A migrated database of its own with DINSOS pointed at a live receiver:
    {"url", "database", "receiver", "env"}."""
    receiver = Receiver(delay=0.005).start()
    with database_of_its_own(tmp_path, "outbox") as url:
        upgrade(url)
        app = create_app({"DATABASE_URL": url})
        database = app.extensions["lindung.db"]
        with database.session() as session:
            agency = session.get(Agency, "DINSOS")
            agency.webhook_url, agency.webhook_secret = receiver.url, new_webhook_secret()
            session.commit()
        env = {**os.environ, "LINDUNG_DATABASE_URL": url,
               "LINDUNG_INSTANCE_PATH": str(tmp_path / "instance"),
               "LINDUNG_WORKER_LEASE_SECONDS": "3", "LINDUNG_WORKER_BATCH": "10",
               "LINDUNG_WORKER_POLL_SECONDS": "0.05", "LINDUNG_DELIVERY_BACKOFF_SECONDS": "0.05",
               "LINDUNG_ALERT_SCAN_SECONDS": "60"}
        try:
            yield {"database": database, "receiver": receiver, "env": env,
                   "postgres": database.dialect == "postgresql"}
        finally:
            receiver.stop()
            database.bind.dispose()


def _pending_events(database, count: int, batch: str) -> set[str]:
    """COUNT events over KEYS referrals, numbered in order per referral; their message ids."""
    referrals = [uuid.uuid4() for _ in range(KEYS)]
    with database.session() as session:
        agency = session.get(Agency, "DINSOS")
        for n in range(count):
            record_event(session=session, kind="referral.updated", agency=agency,
                         referral_id=referrals[n % KEYS],
                         data={"referral_id": str(referrals[n % KEYS]), "n": n,
                               "batch": batch})
        session.commit()
        return set(session.scalars(select(Delivery.message_id).where(
            Delivery.status == DeliveryStatus.PENDING)))


def _start(env, concurrency=CONCURRENCY):
    return subprocess.Popen([LINDUNG, "worker", "--concurrency", str(concurrency)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait(condition, seconds=120, progress=lambda: ""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out {progress()}")


def _pending(database) -> int:
    with database.session(writes=False) as session:
        return session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.status == DeliveryStatus.PENDING))


def _received(receiver, batch):
    """(webhook-id, payload) of the 2xx receipts of BATCH, in arrival order."""
    found = []
    for receipt in receiver.delivered():
        payload = json.loads(receipt.body)
        if payload["data"]["batch"] == batch:
            found.append((receipt.headers["webhook-id"], payload))
    return found


def _in_order_per_referral(received) -> bool:
    first_seen, numbers = set(), defaultdict(list)
    for message_id, payload in received:
        if message_id not in first_seen:
            first_seen.add(message_id)
            numbers[payload["data"]["referral_id"]].append(payload["data"]["n"])
    return all(ns == sorted(ns) for ns in numbers.values())


def _stop(process):
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=20)[0].decode()
    assert process.returncode == 0, output
    assert "worker stopped" in output


def test_workers_deliver_every_event_once_in_order_and_survive_a_kill(outbox):
    database, receiver, env = outbox["database"], outbox["receiver"], outbox["env"]
    workers = []
    try:
        _deliver_with_workers(outbox, database, receiver, env, workers)
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
            process.communicate()


def _deliver_with_workers(outbox, database, receiver, env, workers):
    # two workers at once on PostgreSQL; SQLite has one writer, so one worker, and a tenth
    # of the load
    first, second = (500, 300) if outbox["postgres"] else (50, 30)
    expected = _pending_events(database, first, "first")
    workers.extend(_start(env) for _ in range(2 if outbox["postgres"] else 1))
    _wait(lambda: _pending(database) == 0,
          progress=lambda: f"{_pending(database)} pending, {len(receiver.receipts)} received")
    received = _received(receiver, "first")
    assert len(received) == first
    assert {message_id for message_id, _ in received} == expected  # each exactly once
    assert _in_order_per_referral(received)

    # one worker killed mid-batch: its leases expire and the other delivers the rest
    expected = _pending_events(database, second, "second")
    _wait(lambda: len(_received(receiver, "second")) >= second // 5)
    workers[0].send_signal(signal.SIGKILL)
    workers[0].communicate(timeout=10)
    if not outbox["postgres"]:
        workers[0] = _start(env, concurrency=1)  # the next worker takes over
    _wait(lambda: _pending(database) == 0)
    received = _received(receiver, "second")
    assert {message_id for message_id, _ in received} == expected  # none lost
    # at least once: only what the killed worker had on the wire (one per thread) may come
    # twice
    assert len(received) - len(expected) <= CONCURRENCY
    assert _in_order_per_referral(received)
    for process in workers[1:] if outbox["postgres"] else workers:
        _stop(process)


def test_sigterm_finishes_the_delivery_in_hand_and_gives_back_the_rest(outbox):
    database, receiver, env = outbox["database"], outbox["receiver"], outbox["env"]
    receiver.delay = 0.2
    _pending_events(database, 40, "slow")
    process = _start(env, concurrency=1)
    try:
        _wait(lambda: len(receiver.receipts) >= 2)
    finally:
        _stop(process)
    with database.session(writes=False) as session:
        held = session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.status == DeliveryStatus.PENDING, Delivery.claimed_by.is_not(None)))
        recorded = session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.status == DeliveryStatus.DELIVERED))
    assert held == 0  # no claim left to expire: another worker may start at once
    assert recorded == len(receiver.delivered())  # the one in hand was finished and recorded
    assert 0 < recorded < 40
