"""Referrals of a case to an agency's service, and the routing rules that propose them."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import (
    Base,
    JsonList,
    UtcDateTime,
    code_enum,
    created_at_column,
    updated_at_column,
    utcnow,
    uuid_pk,
)
from api.vocabularies.codes import ReferralStatus, Service

OPEN_STATUSES = (ReferralStatus.PENDING, ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS)
_OPEN_SQL = "status IN ('pending', 'accepted', 'in_progress')"


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        # one open referral per case, agency and service: routing twice, even at the same
        # moment, cannot create a second one
        Index("uq_referrals_open_service", "case_id", "agency_code", "service", unique=True,
              sqlite_where=text(_OPEN_SQL), postgresql_where=text(_OPEN_SQL)),
        Index("ix_referrals_agency_code_sync_seq", "agency_code", "sync_seq"),
        Index("ix_referrals_status_due_at", "status", "due_at", postgresql_include=["case_id"]),
        # the few referrals still pending, by due time: the KLA dashboard's live count of
        # those past due (stats/service.py), read from the index alone
        Index("ix_referrals_pending_due_at", "due_at",
              postgresql_include=["case_id", "accepted_at"],
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
        # the referrals of a case, and for the KLA dashboard their outcome, from the index
        Index("ix_referrals_case_id", "case_id",
              postgresql_include=["agency_code", "status", "accepted_at", "due_at"]),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    service: Mapped[Service] = mapped_column(code_enum(Service, "referral_service"))
    status: Mapped[ReferralStatus] = mapped_column(
        code_enum(ReferralStatus, "referral_status"), default=ReferralStatus.PENDING)
    rule_id: Mapped[str | None] = mapped_column(String(64), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    outcome: Mapped[str | None] = mapped_column(Text, default=None)
    external_reference: Mapped[str | None] = mapped_column(String(120), default=None)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    # position in the change feed agencies sync from (GET /referrals?cursor=…)
    sync_seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    case = relationship("Case", back_populates="referrals", lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}

    @property
    def overdue(self) -> bool:
        """Not yet accepted (or declined) by its acceptance deadline."""
        return self.status is ReferralStatus.PENDING and self.due_at <= utcnow()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class RoutingRule(Base):
    """One rule of a city's routing rule set: conditions on a case → an agency's service.

    Each city (Kemendagri kota/kabupaten code) has its own set, applied to the cases of its
    kelurahan; a rule's id is unique within its city.
    """

    __tablename__ = "routing_rules"

    city_code: Mapped[str] = mapped_column(String(4), ForeignKey("regions.code"),
                                           primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(255))
    when: Mapped[dict] = mapped_column(JsonList)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    service: Mapped[Service] = mapped_column(code_enum(Service, "routing_rule_service"))
    due_in_hours: Mapped[int] = mapped_column(Integer)


class ReferralFeedCounter(Base):
    """The last position given in the referral change feed (one row).

    Taking a position updates this row, so writers of the feed take turns until their
    transaction ends: positions become visible in the order they were given, and a syncing
    agency never skips a change committed late under a lower number.
    """

    __tablename__ = "referral_feed_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_position: Mapped[int] = mapped_column(BigInteger)
