"""The sealed chain: events are sealed in the order the sealer saw them, and every way of
erasing or rewriting them that a database writer has is caught by the key or a checkpoint."""

import json
import os

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from api.audit import chain, checkpoints
from api.audit.models import AuditEvent
from api.audit.sealer import seal_pending
from api.db import utcnow
from tests.conftest import BALIKPAPAN

POSTGRESQL = bool(os.environ.get("LINDUNG_TEST_DATABASE_URL"))


@pytest.fixture
def sessions(connection):
    """A session factory on the test's connection (its commits are savepoints)."""
    return lambda: Session(bind=connection, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)


@pytest.fixture
def checkpoint_file(app, tmp_path):
    """The sealers of this test write their checkpoints to a file of its own."""
    path = tmp_path / "checkpoints.jsonl"
    checkpoints.configure(secret_key=app.config["SECRET_KEY"], audit_key=None, path=path)
    yield path
    checkpoints.configure(secret_key=app.config["SECRET_KEY"], audit_key=None, path=None)


@pytest.fixture
def unlocked(connection):
    """Lift PostgreSQL's append-only triggers, as the database's owner (an attacker who has
    the server) can."""
    if POSTGRESQL:
        connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    return connection


def _appended(session, count: int, **fields) -> list[AuditEvent]:
    events = [AuditEvent(at=utcnow(), action="case.read", outcome="ok", details={}, **fields)
              for _ in range(count)]
    session.add_all(events)
    session.commit()
    return events


def _sealed(session) -> list[AuditEvent]:
    session.expire_all()
    return session.scalars(select(AuditEvent).where(AuditEvent.seq.is_not(None))
                           .order_by(AuditEvent.seq)).all()


def _points(path):
    return checkpoints.read(path)


def test_events_stay_unsealed_until_a_sealer_chains_them_in_order(app, session, sessions):
    events = _appended(session, 3)
    assert all(event.seq is None and event.hash is None for event in events)
    assert seal_pending(sessions) >= 3
    sealed = _sealed(session)
    assert [e.seq for e in sealed] == list(range(1, len(sealed) + 1))
    assert [e.id for e in sealed[-3:]] == [e.id for e in events]
    assert all(e.prev_hash == before.hash for before, e in zip(sealed, sealed[1:], strict=False))
    assert chain.verify(session).intact


def test_an_event_committed_after_the_sealer_passed_its_id_is_sealed_later(app, session,
                                                                          sessions):
    top = session.scalar(select(func.max(AuditEvent.id))) or 0
    [ahead] = _appended(session, 1, id=top + 10)
    seal_pending(sessions)
    # a transaction that took its id before the other one committed after the sealer's round
    [late] = _appended(session, 1, id=top + 5)
    assert seal_pending(sessions) == 1
    sealed = _sealed(session)
    assert [e.id for e in sealed[-2:]] == [ahead.id, late.id]
    assert sealed[-1].seq == sealed[-2].seq + 1
    verdict = chain.verify(session)
    assert verdict.intact and verdict.unsealed == 0


def test_a_request_seals_its_own_event_as_it_ends(client, session, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    client.get("/api/v1/cases", headers={**staff.headers, "X-Request-ID": "seal-me"})
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.request_id == "seal-me"))
    assert event.seq is not None and len(event.hash) == 64


def test_verify_reports_the_unsealed_tail(app, session, sessions):
    seal_pending(sessions)
    events = _appended(session, 2)
    verdict = chain.verify(session)
    assert verdict.intact
    assert (verdict.unsealed, verdict.oldest_unsealed) == (2, events[0].at)


def test_an_edited_event_fails_verification(app, session, sessions, unlocked):
    _appended(session, 3)
    seal_pending(sessions)
    victim = _sealed(session)[-2]
    unlocked.execute(text("UPDATE audit_events SET actor_role = 'admin' WHERE id = :id"),
                     {"id": victim.id})
    session.expire_all()
    verdict = chain.verify(session)
    assert (verdict.first_bad_id, verdict.intact) == (victim.id, False)
    assert "changed" in verdict.reason


def test_an_edit_with_hashes_recomputed_without_the_key_fails(app, session, sessions,
                                                              unlocked):
    _appended(session, 3)
    seal_pending(sessions)
    sealed = _sealed(session)
    victim = sealed[-2]
    # the attacker rewrites the event and every hash after it, with a key of their own
    _rewrite(unlocked, sealed[-2:], key=b"not the audit key")
    session.expire_all()
    verdict = chain.verify(session)
    assert verdict.first_bad_id == victim.id and "audit key" in verdict.reason


def _rewrite(connection, events, *, key=None) -> None:
    """Make the first of EVENTS an admin's and rechain it and the rest with KEY (default:
    the audit key)."""
    events[0].actor_role = "admin"
    previous = events[0].prev_hash
    for event in events:
        event.prev_hash, event.hash = previous, chain.event_hash(event, previous, key=key)
        previous = event.hash
        connection.execute(text("UPDATE audit_events SET actor_role = :role, "
                                "prev_hash = :prev, hash = :hash WHERE id = :id"),
                           {"role": event.actor_role, "prev": event.prev_hash,
                            "hash": event.hash, "id": event.id})


def test_a_rewrite_with_the_key_itself_differs_from_the_checkpoint(app, session, sessions,
                                                                   unlocked, checkpoint_file):
    _appended(session, 3)
    seal_pending(sessions)
    sealed = _sealed(session)
    # whoever holds the key can make a chain that verifies on its own …
    _rewrite(unlocked, sealed[-2:])
    session.expire_all()
    assert chain.verify(session).intact
    # … but not the head signed before, kept outside the database
    verdict = chain.verify(session, checkpoints=_points(checkpoint_file))
    assert verdict.first_bad_seq == sealed[-1].seq
    assert "checkpoint" in verdict.reason


def test_deleting_the_newest_events_is_caught_by_the_checkpoint(app, session, sessions,
                                                               unlocked, checkpoint_file):
    _appended(session, 3)
    seal_pending(sessions)
    seqs = [event.seq for event in _sealed(session)]
    assert chain.verify(session, checkpoints=_points(checkpoint_file)).checkpoint_seq == \
        seqs[-1]
    unlocked.execute(text("DELETE FROM audit_events WHERE seq >= :seq"), {"seq": seqs[-2]})
    session.expire_all()
    assert chain.verify(session).intact  # the shorter chain holds together on its own
    verdict = chain.verify(session, checkpoints=_points(checkpoint_file))
    assert not verdict.intact and "deleted" in verdict.reason
    assert verdict.first_bad_seq == seqs[-2]


def test_emptying_the_log_is_caught_by_the_checkpoint(app, session, sessions, unlocked,
                                                      checkpoint_file):
    _appended(session, 2)
    seal_pending(sessions)
    unlocked.execute(text("DELETE FROM audit_event_subjects"))
    unlocked.execute(text("DELETE FROM audit_events"))
    session.expire_all()
    verdict = chain.verify(session, checkpoints=_points(checkpoint_file))
    assert (verdict.checked, verdict.intact) == (0, False)


def test_a_deleted_event_in_the_middle_breaks_the_chain(app, session, sessions, unlocked):
    _appended(session, 3)
    seal_pending(sessions)
    first, second, third = _sealed(session)[-3:]
    unlocked.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": second.id})
    session.expire_all()
    verdict = chain.verify(session)
    assert (verdict.first_bad_id, verdict.first_bad_seq) == (third.id, third.seq)
    assert "missing" in verdict.reason


def test_a_forged_event_at_the_head_is_named(app, session, sessions):
    _appended(session, 2)
    seal_pending(sessions)
    last = _sealed(session)[-1]
    forged = AuditEvent(at=utcnow(), action="case.read", outcome="ok", details={},
                        seq=last.seq + 1, prev_hash=last.hash, hash="f" * 64)
    session.add(forged)
    session.commit()
    verdict = chain.verify(session)
    assert verdict.first_bad_id == forged.id and "changed" in verdict.reason


def test_a_checkpoint_line_that_was_forged_or_altered_is_refused(app, session, sessions,
                                                                 checkpoint_file):
    _appended(session, 1)
    seal_pending(sessions)
    [line] = checkpoint_file.read_text().splitlines()
    altered = {**json.loads(line), "seq": json.loads(line)["seq"] + 1}
    checkpoint_file.write_text(f"{line}\n{json.dumps(altered)}\n")
    with pytest.raises(checkpoints.ForgedCheckpoint, match=":2: its signature"):
        checkpoints.read(checkpoint_file)


def test_checkpoints_are_read_back_from_log_lines(app, session, sessions, checkpoint_file,
                                                  tmp_path, caplog):
    caplog.set_level("INFO", logger="lindung.audit")
    _appended(session, 1)
    seal_pending(sessions)
    messages = [record.getMessage() for record in caplog.records]
    plain, structured = tmp_path / "server.log", tmp_path / "server.jsonl"
    plain.write_text("".join(f"2026-12-01 INFO lindung.audit {message}\n"
                             for message in messages) + "2026-12-01 INFO other {\"x\": 1}\n")
    structured.write_text("".join(json.dumps({"level": "INFO", "message": message}) + "\n"
                                  for message in [*messages, "GET /api/v1/cases 200"]))
    assert _points(plain) == _points(structured) == _points(checkpoint_file) != []


if POSTGRESQL:  # the triggers are PostgreSQL's own

    @pytest.mark.parametrize("table", ["audit_events", "audit_event_subjects"])
    def test_postgresql_refuses_to_truncate_the_audit_trail(connection, table):
        with pytest.raises(Exception, match="append-only"), connection.begin_nested():
            connection.execute(text(f"TRUNCATE {table} CASCADE"))

    def test_postgresql_lets_a_seal_be_set_once_and_nothing_else(app, session, sessions,
                                                                 connection):
        [event] = _appended(session, 1)
        for statement in (  # unsealed: the seal may be set, but nothing else beside it
                "UPDATE audit_events SET seq = 999999, prev_hash = 'x', hash = 'y', "
                "outcome = 'forged' WHERE id = :id",
                "UPDATE audit_events SET outcome = 'forged' WHERE id = :id"):
            with pytest.raises(Exception, match="append-only"), connection.begin_nested():
                connection.execute(text(statement), {"id": event.id})
        seal_pending(sessions)
        with pytest.raises(Exception, match="append-only"), connection.begin_nested():
            connection.execute(text("UPDATE audit_events SET hash = 'x' WHERE id = :id"),
                               {"id": event.id})
        assert chain.verify(session).intact
