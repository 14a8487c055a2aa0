"""The hash chain: each event's hash covers its fields and the previous event's hash, so an
edited, deleted or inserted row breaks the chain from that row on."""

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.audit.models import AuditEvent

GENESIS = "0" * 64
# any constant works: it names the lock that keeps the chain a single line
CHAIN_LOCK = 0x4C4E4441  # "LNDA"
FIELDS = ("at", "actor_id", "actor_role", "agency", "action", "subject_type", "subject_id",
          "outcome", "request_id", "client_ip", "details")


def event_hash(event: AuditEvent, prev_hash: str) -> str:
    body = {name: getattr(event, name) for name in FIELDS}
    body["at"] = event.at.isoformat(timespec="microseconds")
    body["actor_id"] = str(event.actor_id) if event.actor_id else None
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def append(session: Session, events: list[AuditEvent]) -> None:
    """Chain EVENTS after the last stored one and add them to SESSION.

    Appenders take turns until their transaction ends (PostgreSQL: an advisory lock; SQLite:
    its single writer), so two processes can never chain onto the same predecessor.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    previous = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    previous = previous or GENESIS
    for event in events:
        event.prev_hash = previous
        event.hash = previous = event_hash(event, previous)
        session.add(event)
    session.flush()


@dataclass(frozen=True)
class Verdict:
    checked: int
    first_bad_id: int | None
    reason: str | None


def verify(session: Session, *, batch: int = 5000) -> Verdict:
    """Walk the chain in order; the first event whose link or hash does not hold."""
    previous, checked, last_id = GENESIS, 0, 0
    while True:
        events = session.scalars(select(AuditEvent).where(AuditEvent.id > last_id)
                                 .order_by(AuditEvent.id).limit(batch)).all()
        if not events:
            return Verdict(checked, None, None)
        for event in events:
            if event.prev_hash != previous:
                return Verdict(checked, event.id, "its link to the previous event is broken "
                                                  "(an event before it was deleted or added)")
            if event.hash != event_hash(event, previous):
                return Verdict(checked, event.id, "its content was changed")
            previous, last_id, checked = event.hash, event.id, checked + 1
        session.expunge_all()
