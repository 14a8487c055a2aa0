"""The keyed hash chain over sealed audit events, and its verification.

Each sealed event carries `seq` (its place in the chain, 1, 2, 3, … without gaps),
`prev_hash` (the hash of event seq − 1, or GENESIS) and `hash` =
HMAC-SHA256(audit key, prev_hash "\\n" canonical(event)). The key is what makes the chain
evidence: anyone who can write the table can edit a row and recompute the hashes after it,
but without the key the recomputed hashes do not verify. Deleting the newest rows, or all of
them, leaves a shorter chain that verifies on its own: the signed checkpoints kept outside
the database (api/audit/checkpoints.py) name a head the database must still hold.

The key is LINDUNG_AUDIT_KEY, or derived from LINDUNG_SECRET_KEY (api/crypto.py) when unset.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.audit.checkpoints import Checkpoint
from api.audit.models import AuditEvent
from api.crypto import derived_key

GENESIS = "0" * 64
# what an event's hash covers, beside its place in the chain
FIELDS = ("at", "actor_id", "actor_role", "agency", "action", "subject_type", "subject_id",
          "outcome", "request_id", "client_ip", "details")

_key: dict = {}


def configure(*, secret_key: str, audit_key: str | None) -> None:
    """Set this process's chain key: AUDIT_KEY when given, else one derived from
    SECRET_KEY."""
    _key["chain"] = derived_key(audit_key or secret_key, "audit-chain")


def chain_key() -> bytes:
    """The HMAC key of the chain (32 bytes); raises LookupError before configure()."""
    if "chain" not in _key:
        raise LookupError("the audit chain key is not configured (api.audit.chain.configure)")
    return _key["chain"]


def canonical(event: AuditEvent) -> str:
    """EVENT as one JSON text: sorted keys, no spaces, UTC time to the microsecond; its id
    and seq included, so a row cannot be moved to another place in the chain."""
    body = {name: getattr(event, name) for name in FIELDS}
    body["at"] = event.at.isoformat(timespec="microseconds")
    body["actor_id"] = str(event.actor_id) if event.actor_id else None
    body["id"], body["seq"] = event.id, event.seq
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(event: AuditEvent, prev_hash: str, *, key: bytes | None = None) -> str:
    """The keyed hash (64 hex digits) of EVENT following PREV_HASH."""
    message = f"{prev_hash}\n{canonical(event)}".encode()
    return hmac.new(key or chain_key(), message, hashlib.sha256).hexdigest()


def link(events: list[AuditEvent], *, head_seq: int, head_hash: str) -> None:
    """Give EVENTS (in the order the sealer saw them) the places after HEAD_SEQ, chained
    after HEAD_HASH."""
    previous = head_hash
    for seq, event in enumerate(events, start=head_seq + 1):
        event.seq, event.prev_hash = seq, previous
        event.hash = previous = event_hash(event, previous)


@dataclass(frozen=True)
class Verdict:
    """What `verify` found.

    checked: sealed events that verified, in seq order; head_seq/head_hash: the last of them;
    first_bad_id / first_bad_seq and reason: where and why the chain stopped verifying (None
    when intact); checkpoint_seq: the newest checkpoint the chain matched (None without any);
    unsealed: events not yet sealed, oldest_unsealed: the time of the oldest of them.
    """

    checked: int
    first_bad_id: int | None
    reason: str | None
    head_seq: int = 0
    head_hash: str = GENESIS
    first_bad_seq: int | None = None
    checkpoint_seq: int | None = None
    unsealed: int = 0
    oldest_unsealed: datetime | None = None

    @property
    def intact(self) -> bool:
        return self.reason is None


def verify(session: Session, *, checkpoints: list[Checkpoint] = (),
           batch: int = 5000) -> Verdict:
    """Walk the sealed events in seq order, recomputing each keyed hash, and hold the chain
    against CHECKPOINTS (heads signed earlier, kept outside the database): the first event
    whose place, link or hash does not hold, or a checkpoint the chain no longer reaches, is
    the verdict's reason. Unsealed events are counted, not judged."""
    expected = {point.seq: point for point in checkpoints}
    previous, checked, last_seq, matched = GENESIS, 0, 0, None
    while True:
        events = session.scalars(select(AuditEvent).where(AuditEvent.seq > last_seq)
                                 .order_by(AuditEvent.seq).limit(batch)).all()
        for event in events:
            reason = _fault(event, expected_seq=last_seq + 1, previous=previous)
            if reason is None and event.seq in expected and \
                    expected[event.seq].hash != event.hash:
                reason = (f"it differs from the checkpoint of {expected[event.seq].at} "
                          "(the chain was rewritten from here on)")
            if reason:
                return _ended(session, Verdict(checked, event.id, reason, last_seq, previous,
                                               first_bad_seq=event.seq,
                                               checkpoint_seq=matched))
            if event.seq in expected:
                matched = event.seq
            previous, last_seq, checked = event.hash, event.seq, checked + 1
        if len(events) < batch:
            break
        session.expunge_all()
    beyond = [point for point in checkpoints if point.seq > last_seq]
    if beyond:
        newest = max(beyond, key=lambda point: point.seq)
        return _ended(session, Verdict(
            checked, None, f"the checkpoint of {newest.at} names event seq {newest.seq}, but "
            f"the chain ends at seq {last_seq}: sealed events were deleted",
            last_seq, previous, first_bad_seq=last_seq + 1, checkpoint_seq=matched))
    return _ended(session, Verdict(checked, None, None, last_seq, previous,
                                   checkpoint_seq=matched))


def _fault(event: AuditEvent, *, expected_seq: int, previous: str) -> str | None:
    if event.seq != expected_seq:
        return f"events seq {expected_seq} to {event.seq - 1} before it are missing"
    if event.prev_hash != previous:
        return "its link to the previous event is broken (an event before it was replaced)"
    if not hmac.compare_digest(event.hash or "", event_hash(event, previous)):
        return "its content was changed, or its hash was not made with the audit key"
    return None


def _ended(session: Session, verdict: Verdict) -> Verdict:
    """VERDICT with the unsealed tail counted."""
    count, oldest = session.execute(select(func.count(), func.min(AuditEvent.at))
                                    .where(AuditEvent.seq.is_(None))).one()
    return replace(verdict, unsealed=count, oldest_unsealed=oldest)
