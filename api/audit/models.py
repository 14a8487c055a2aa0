"""The audit event tables: events (sealed into the chain after they commit), the subjects
of list reads, and the counts of anonymous refusals."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, JsonList, UtcDateTime


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_subject_id_id", "subject_id", "id"),
        Index("ix_audit_events_actor_id_id", "actor_id", "id"),
        Index("ix_audit_events_at", "at"),
        # one event per place in the chain, whatever a sealer does wrong
        Index("uq_audit_events_seq", "seq", unique=True),
        # the sealer's work list stays small however long the log grows
        Index("ix_audit_events_unsealed", "id", sqlite_where=text("seq IS NULL"),
              postgresql_where=text("seq IS NULL")),
    )

    # the order events were appended in; the chain's order is seq (api/audit/chain.py)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    actor_role: Mapped[str | None] = mapped_column(String(20), default=None)
    agency: Mapped[str | None] = mapped_column(String(32), default=None)
    action: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str | None] = mapped_column(String(20), default=None)
    subject_id: Mapped[str | None] = mapped_column(String(64), default=None)
    outcome: Mapped[str] = mapped_column(String(20))
    request_id: Mapped[str | None] = mapped_column(String(128), default=None)
    client_ip: Mapped[str | None] = mapped_column(String(45), default=None)
    details: Mapped[dict] = mapped_column(JsonList, default=dict)
    # NULL until the sealer (api/audit/sealer.py) gives the event its place in the chain;
    # PostgreSQL lets them be set once, from NULL, and nothing else change (migration c6d7e8f9a0b1)
    seq: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                            default=None)
    prev_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    hash: Mapped[str | None] = mapped_column(String(64), default=None)


class AuditSubject(Base):
    """A case, child or referral an audit event showed, beside the event's own subject: a
    list answer shows many, and each must find the read in its access log (UU PDP 27/2022
    art. 7: the data subject's right to know who processed their data). The ids are also in
    the event's details, so the hash chain covers them; this table finds them by index."""

    __tablename__ = "audit_event_subjects"
    __table_args__ = (Index("ix_audit_event_subjects_subject_id_event_id", "subject_id",
                            "event_id"),)

    event_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("audit_events.id"),
        primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))


class AnonymousRefusalCount(Base):
    """Requests refused for want of credentials (401), counted per source address and hour
    instead of an audit event each: anyone can send them, and a row each would let anyone
    grow the permanent log without bound. Counts are statistics, not evidence: they are not
    chained. Refusals of a known caller (403, 404) remain audit events."""

    __tablename__ = "audit_anonymous_refusals"

    source: Mapped[str] = mapped_column(String(45), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    refusals: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime)
