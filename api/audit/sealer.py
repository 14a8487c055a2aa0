"""The sealer: gives committed audit events their place in the hash chain, after the fact.

Requests append their events in their own transactions and take no lock for it, so requests
commit side by side. A sealer then takes a turn that only sealers use (PostgreSQL: the
transaction-level advisory lock SEAL_LOCK, tried without waiting; SQLite: its single writer),
reads the committed events with no seq in id order, chains them after the head (chain.link),
commits, and writes a signed checkpoint of the new head outside the database
(checkpoints.record).

The chain's order is the order the sealer saw the events in, not their ids: on PostgreSQL an
event with a smaller id can commit after the sealer passed its neighbours; it is still
unsealed, so a later round seals it (the work list is `WHERE seq IS NULL`, never
`id > last`). No committed event is skipped, and a sealer killed mid-round loses nothing:
its transaction rolls back and the next round does the same work.

Sealers run in `lindung audit seal [--follow]`, in any process that calls `seal_pending`, and
after each request of the API on PostgreSQL (api/audit/http.py), where the try-lock means no
request ever waits for another's sealing. On SQLite a request's transaction holds the only
write lock anyway, so it seals within it, just before it commits (`seal_before_commit`).
"""

import logging
import time
from collections.abc import Callable

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from api.audit import chain, checkpoints
from api.audit.models import AuditEvent
from api.db import utcnow
from api.observability import metrics

# any constant works: it names the turn only sealers take ("LNDS")
SEAL_LOCK = 0x4C4E4453
SEALED_HEAD = "audit_sealed_head"
BATCH = 500
log = logging.getLogger("lindung.audit")


def seal_pending(session_factory: Callable[[], Session], *, batch: int = BATCH,
                 wait: bool = False, rounds: int | None = None) -> int:
    """Seal every committed unsealed event (or ROUNDS batches at most), BATCH at a time,
    each batch in a transaction of a session from SESSION_FACTORY (a writing session: on
    SQLite it must take the write lock as it begins); the number sealed. When another sealer
    has the turn: 0 at once, or with WAIT, after waiting for it (PostgreSQL)."""
    total, done = 0, 0
    while rounds is None or done < rounds:
        with session_factory() as session:
            sealed = seal_round(session, batch=batch, wait=wait)
        total, done = total + (sealed or 0), done + 1
        if not sealed or sealed < batch:
            break
    return total


def seal_round(session: Session, *, batch: int = BATCH, wait: bool = False) -> int | None:
    """Seal up to BATCH unsealed events in SESSION's transaction and commit; None when
    another sealer has the turn (and not WAIT). A checkpoint of the new head is recorded
    after the commit, so no checkpoint ever names a head that was rolled back."""
    with metrics.audit_chain_wait():
        turn = _take_turn(session, wait=wait)
    if not turn:
        session.rollback()
        return None
    started = time.monotonic()
    events = _unsealed(session, batch)
    if not events:
        session.rollback()
        return 0
    head_seq, head_hash = _chained(session, events)
    session.commit()
    _checkpoint(head_seq, head_hash)
    log.debug("sealed %d audit events up to seq %d in %.1f ms", len(events), head_seq,
              (time.monotonic() - started) * 1000)
    return len(events)


def seal_before_commit(session: Session, *, batch: int = BATCH) -> None:
    """Seal up to BATCH unsealed events, SESSION's own included, in SESSION's transaction:
    for SQLite, where a writing transaction holds the database's only write lock until it
    ends, so sealing there costs no second transaction and no wait. The checkpoint is
    recorded once the transaction commits."""
    events = _unsealed(session, batch)
    if events:
        session.info[SEALED_HEAD] = _chained(session, events)
        session.flush()


@event.listens_for(Session, "after_commit")
def _checkpoint_committed_head(session: Session) -> None:
    if head := session.info.pop(SEALED_HEAD, None):
        _checkpoint(*head)


@event.listens_for(Session, "after_rollback")
def _forget_head(session: Session) -> None:
    session.info.pop(SEALED_HEAD, None)


def _unsealed(session: Session, batch: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.seq.is_(None))
                                .order_by(AuditEvent.id).limit(batch)))


def _chained(session: Session, events: list[AuditEvent]) -> tuple[int, str]:
    """Chain EVENTS after the sealed head; the new head's (seq, hash)."""
    head_seq, head_hash = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq.desc()).limit(1)).first() or (0, chain.GENESIS)
    chain.link(events, head_seq=head_seq, head_hash=head_hash)
    return events[-1].seq, events[-1].hash


def _checkpoint(seq: int, hash_: str) -> None:
    checkpoints.record(checkpoints.signed(seq=seq, hash_=hash_,
                                          at=utcnow().isoformat(timespec="microseconds")))


def _take_turn(session: Session, *, wait: bool) -> bool:
    """Whether this transaction may seal: at most one sealer at a time (PostgreSQL: an
    advisory lock released at commit, tried or WAITed for; SQLite: the write lock the
    session took as it began)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    if wait:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEAL_LOCK})
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"),
                               {"key": SEAL_LOCK}))


def follow(session_factory: Callable[[], Session], *, interval: float,
           rounds: int | None = None) -> int:
    """Seal, then sleep INTERVAL seconds, forever (or ROUNDS times); the number sealed."""
    total, done = 0, 0
    while rounds is None or done < rounds:
        total += seal_pending(session_factory)
        done += 1
        time.sleep(interval)
    return total
