"""The outbox: events written with the change they tell of, their deliveries (one per
recipient channel) with every attempt, and the staff alerts."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, JsonList, UtcDateTime, code_enum, created_at_column, uuid_pk

# a 64-bit id on PostgreSQL; SQLite's INTEGER PRIMARY KEY is its 64-bit rowid already
SerialId = BigInteger().with_variant(Integer(), "sqlite")


class Channel(enum.StrEnum):
    WEBHOOK = "webhook"  # an agency's endpoint (DESIGN §7)
    EMAIL = "email"  # a staff member's e-mail, over SMTP
    GATEWAY = "gateway"  # the city's WhatsApp/SMS gateway webhook


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # retried for the whole retry window, then given up


class OutboxEvent(Base):
    """Something that happened, written in the transaction of the change itself."""

    __tablename__ = "outbox_events"

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(String(40))
    # the thin payload sent as is (ids, status, never a name or a narrative)
    payload: Mapped[dict] = mapped_column(JsonList)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None, index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    created_at: Mapped[datetime] = created_at_column()


_PENDING_SQL = "status = 'pending'"


class Delivery(Base):
    """One event on its way to one recipient; retried until delivered or given up."""

    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        # the worker's claim: pending deliveries by due time, and the head of each key
        Index("ix_outbox_deliveries_due", "next_attempt_at", sqlite_where=text(_PENDING_SQL),
              postgresql_where=text(_PENDING_SQL)),
        Index("ix_outbox_deliveries_pending_key", "ordering_key", "id",
              sqlite_where=text(_PENDING_SQL), postgresql_where=text(_PENDING_SQL)),
        Index("ix_outbox_deliveries_agency_code_id", "agency_code", "id"),
    )

    # the order events were written in: a key's deliveries go out in this order
    id: Mapped[int] = mapped_column(SerialId, primary_key=True, autoincrement=True)
    # the Standard Webhooks `webhook-id`, the same on every retry: receivers dedupe by it
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_events.id"), index=True)
    channel: Mapped[Channel] = mapped_column(code_enum(Channel, "delivery_channel"))
    agency_code: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"), default=None)
    alert_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alerts.id"), default=None,
                                                       index=True)
    # deliveries of one key go out one at a time, oldest first (one referral at one agency)
    ordering_key: Mapped[str] = mapped_column(String(120))
    status: Mapped[DeliveryStatus] = mapped_column(
        code_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # a worker's lease: past it, the claim is void and another worker may deliver
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(80), default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = created_at_column()
    # retries end a retry window after this (the creation, or an admin's retry)
    retry_from: Mapped[datetime] = mapped_column(UtcDateTime)

    event: Mapped[OutboxEvent] = relationship(lazy="joined", innerjoin=True)
    # loaded where shown (outbox/service.py list_deliveries), never by the worker
    attempts: Mapped[list["DeliveryAttempt"]] = relationship(
        order_by="DeliveryAttempt.id", cascade="all, delete-orphan")


class DeliveryAttempt(Base):
    """One try at a delivery: the answer's status (or the error) and how long it took."""

    __tablename__ = "outbox_delivery_attempts"

    id: Mapped[int] = mapped_column(SerialId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_deliveries.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(String(255), default=None)
    duration_ms: Mapped[int] = mapped_column(Integer)


class Alert(Base):
    """A staff member told of something (DESIGN §8): one per kind, subject and person."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("kind", "subject_id", "user_id", name="uq_alerts_kind_subject_user"),
        Index("ix_alerts_user_id_created_at", "user_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(String(40))
    # the case, referral or agency endpoint the alert is about
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), default=None)
    reference: Mapped[str | None] = mapped_column(String(40), default=None)
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # what the message needs besides the case: an agency code, the region for its zone
    facts: Mapped[dict] = mapped_column(JsonList, default=dict)
    created_at: Mapped[datetime] = created_at_column()

