"""Claiming a key, recording the response, replaying it."""

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.idempotency.models import IdempotencyRecord


class ClaimOutcome(enum.Enum):
    PROCEED = "proceed"  # first use of the key: run the request
    REPLAY = "replay"  # done before with the same body: send the stored response
    MISMATCH = "mismatch"  # the key was used with another body
    IN_FLIGHT = "in_flight"  # the first request with this key is still running


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    record: IdempotencyRecord | None


def claim_key(*, session: Session, user_id: uuid.UUID, key: str, fingerprint: str,
              now: datetime, ttl: timedelta, claim_timeout: timedelta) -> Claim:
    """Try to own KEY for this request; decides replay / mismatch / in flight otherwise."""
    record = IdempotencyRecord(user_id=user_id, key=key, fingerprint=fingerprint, claimed_at=now)
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        pass
    else:
        return Claim(ClaimOutcome.PROCEED, record)

    existing = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    )
    if existing is None:  # the other request released its claim in between: try again
        return claim_key(session=session, user_id=user_id, key=key, fingerprint=fingerprint,
                         now=now, ttl=ttl, claim_timeout=claim_timeout)
    if existing.created_at <= now - ttl:
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == existing.id))
        return claim_key(session=session, user_id=user_id, key=key, fingerprint=fingerprint,
                         now=now, ttl=ttl, claim_timeout=claim_timeout)
    if existing.fingerprint != fingerprint:
        return Claim(ClaimOutcome.MISMATCH, existing)
    if existing.completed:
        return Claim(ClaimOutcome.REPLAY, existing)
    if existing.claimed_at > now - claim_timeout:
        return Claim(ClaimOutcome.IN_FLIGHT, existing)
    # the first request died without an answer; take over its claim, once
    taken = session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == existing.id,
               IdempotencyRecord.claimed_at == existing.claimed_at,
               IdempotencyRecord.response_status.is_(None))
        .values(claimed_at=now)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    return Claim(ClaimOutcome.PROCEED if taken else ClaimOutcome.IN_FLIGHT, existing)


def purge_expired(*, session: Session, now: datetime, ttl: timedelta) -> None:
    """Forget stored responses past their replay window: they hold personal data."""
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= now - ttl))


def record_response(*, session: Session, record_id: uuid.UUID, status: int, body: str,
                    headers: list[tuple[str, str]]) -> None:
    """Store the response with the request's own changes, in the same transaction."""
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .values(response_status=status, response_body=body, response_headers=headers)
    )


def release_claim(*, session: Session, record_id: uuid.UUID) -> None:
    """Forget a claim whose request failed, so the client can retry with the same key."""
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.id == record_id, IdempotencyRecord.response_status.is_(None)
        )
    )
