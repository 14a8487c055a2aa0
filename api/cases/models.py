"""The case table and the per-city, per-year reference counter."""

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.auth.models import User
from api.children.models import Child, Household
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
from api.vocabularies.codes import (
    CaseStatus,
    Category,
    ClosureReason,
    IncidentPlace,
    PerpetratorRelation,
    RiskLevel,
    Role,
    Source,
)

# triaged but no agency has taken the case up yet
AWAITING_RESPONSE = (CaseStatus.TRIAGED, CaseStatus.REFERRED)
# the staff queue (Case.queue_rank): open emergencies, then the other open cases, each with a
# running deadline first; closed cases last, outside the queue
QUEUE_EMERGENCY_DUE, QUEUE_EMERGENCY, QUEUE_DUE, QUEUE_OPEN, QUEUE_CLOSED = range(5)


class CaseOrder(enum.StrEnum):
    """The orders of a case list: newest first, or the staff queue."""

    NEWEST = "newest"
    QUEUE = "queue"


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_village_code_created_at", "village_code", "created_at"),
        Index("ix_cases_reporter_id_created_at", "reporter_id", "created_at", "id"),
        # the lists' keyset orders (api/paging.py): newest first, and the staff queue
        Index("ix_cases_created_at_id", "created_at", "id"),
        Index("ix_cases_queue", "queue_rank", "queue_due_at", "created_at", "id"),
        # the queue's counts per filter: the open cases of an area from the index alone
        # (api/cases/queue.py); the closed history, which only grows, is not in it
        Index("ix_cases_open_village_code", "village_code",
              postgresql_include=["id", "status", "category", "risk_level", "triage_due_at",
                                  "response_due_at", "attention_flagged", "queue_rank"],
              postgresql_where=text(f"queue_rank < {QUEUE_CLOSED}"),
              sqlite_where=text(f"queue_rank < {QUEUE_CLOSED}")),
        Index("ix_cases_status_triage_due_at", "status", "triage_due_at",
              postgresql_include=["village_code", "created_at"]),
        # the KLA dashboard: a period's cases of an area read from the index alone
        Index("ix_cases_kla", "created_at", "village_code",
              postgresql_include=["id", "category", "triaged_at", "triage_due_at",
                                  "first_accepted_at", "violence_types"]),
        Index("ix_cases_category_village_code_created_at", "category", "village_code",
              "created_at"),
        Index("ix_cases_closed_at_village_code", "closed_at", "village_code",
              postgresql_include=["closure_reason"]),
        # the KLA dashboard's late triage as of now (the rest comes from stats/rollups.py)
        Index("ix_cases_untriaged", "triage_due_at", postgresql_include=["village_code",
                                                                         "created_at"],
              postgresql_where=text("triaged_at IS NULL"),
              sqlite_where=text("triaged_at IS NULL")),
        # a cluster's most recent members: the possible duplicates a case shows
        Index("ix_cases_duplicate_cluster_id_created_at", "duplicate_cluster_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    category: Mapped[Category] = mapped_column(code_enum(Category, "case_category"))
    status: Mapped[CaseStatus] = mapped_column(
        code_enum(CaseStatus, "case_status"), default=CaseStatus.REPORTED
    )
    closure_reason: Mapped[ClosureReason | None] = mapped_column(
        code_enum(ClosureReason, "case_closure_reason"), default=None
    )
    risk_level: Mapped[RiskLevel | None] = mapped_column(
        code_enum(RiskLevel, "case_risk_level"), default=None
    )
    emergency: Mapped[bool] = mapped_column(default=False)
    # set when an agency declines a referral; cleared when a caseworker acts on the case
    attention_flagged: Mapped[bool] = mapped_column(default=False)
    violence_types: Mapped[list[str]] = mapped_column(JsonList, default=list)
    tags: Mapped[list[str]] = mapped_column(JsonList, default=list)
    incident_date: Mapped[date | None] = mapped_column(Date, default=None)
    incident_place: Mapped[IncidentPlace | None] = mapped_column(
        code_enum(IncidentPlace, "case_incident_place"), default=None
    )
    description: Mapped[str | None] = mapped_column(Text, default=None)
    perpetrator_relation: Mapped[PerpetratorRelation | None] = mapped_column(
        code_enum(PerpetratorRelation, "case_perpetrator_relation"), default=None
    )
    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    rw: Mapped[str | None] = mapped_column(String(3), default=None)
    rt: Mapped[str | None] = mapped_column(String(3), default=None)
    address: Mapped[str | None] = mapped_column(String(255), default=None)
    source: Mapped[Source] = mapped_column(code_enum(Source, "case_source"))
    reporter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    # the role the reporter had when reporting: the report's provenance, kept if roles change
    reporter_role: Mapped[Role] = mapped_column(code_enum(Role, "case_reporter_role"))
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id"), index=True, default=None
    )
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    household_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("households.id"), index=True, default=None
    )
    triage_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    triaged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # after triage: by when an agency must have taken the case up (an accepted referral)
    response_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # when an agency first took the case up; kept on the case so the dashboard's median
    # "days to first accepted referral" reads one index instead of every referral
    first_accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # the possible-duplicate cluster (cases/duplicates.py): the case and the cases that may
    # be about the same child share it; named after a case of it, None while the case is alone
    duplicate_cluster_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    # optimistic concurrency: every UPDATE checks and bumps it, so racing writes cannot both win
    version: Mapped[int] = mapped_column(Integer, default=1)
    # the staff queue's order, stored and kept by every write of the case (_keep_queue_place):
    # an expression index would do on PostgreSQL, but SQLite matches an expression index only
    # to the very same expression with the same literals (never to bound parameters), and a
    # keyset cursor needs keys that are never NULL ("no deadline" sorts last as the case's
    # creation time within its own rank). Never NULL: the migration filled every row and
    # every write sets them; nullable only as SQLite adds a NOT NULL column by rebuilding
    # the table
    queue_rank: Mapped[int | None] = mapped_column(Integer, default=QUEUE_DUE)
    queue_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=utcnow)

    child: Mapped[Child] = relationship(lazy="joined", innerjoin=True)
    household: Mapped[Household | None] = relationship(lazy="joined")
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="raise")

    referrals: Mapped[list["Referral"]] = relationship(  # noqa: F821
        back_populates="case", lazy="selectin", order_by="Referral.created_at")

    __mapper_args__ = {"version_id_col": version}

    @property
    def overdue(self) -> bool:
        """Not triaged by its triage deadline, or not taken up by its response deadline."""
        now = utcnow()
        if self.status is CaseStatus.REPORTED:
            return self.triage_due_at <= now
        if self.status in AWAITING_RESPONSE:
            return self.response_due_at is not None and self.response_due_at <= now
        return False

    @property
    def needs_attention(self) -> bool:
        """A referral was declined, or one was not accepted in time."""
        return self.attention_flagged or any(referral.overdue for referral in self.referrals)

    @property
    def current_deadline(self) -> datetime | None:
        """The deadline running now: triage while reported, response while awaiting one."""
        if self.status in (None, CaseStatus.REPORTED):  # None: not yet flushed, so reported
            return self.triage_due_at
        if self.status in AWAITING_RESPONSE:
            return self.response_due_at
        return None

    @property
    def reporter_summary(self) -> dict:
        return {"id": self.reporter_id, "role": self.reporter_role}


@event.listens_for(Case, "before_insert")
@event.listens_for(Case, "before_update")
def _keep_queue_place(_mapper, _connection, case: Case) -> None:
    """Set the case's place in the staff queue from its status, emergency and deadlines."""
    deadline = case.current_deadline
    if case.status is CaseStatus.CLOSED:
        case.queue_rank = QUEUE_CLOSED
    elif case.emergency:
        case.queue_rank = QUEUE_EMERGENCY_DUE if deadline else QUEUE_EMERGENCY
    else:
        case.queue_rank = QUEUE_DUE if deadline else QUEUE_OPEN
    case.queue_due_at = deadline or case.created_at or utcnow()


class DuplicateDismissal(Base):
    """A decision that two cases of one duplicate cluster are not about the same child: the
    pair is shown no more, whatever joins the cluster later. Stored in both directions, so
    each case's dismissals are a prefix of the primary key."""

    __tablename__ = "case_duplicate_dismissals"

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    other_case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))


class CaseReferenceCounter(Base):
    """The last case number given in a city and year (KS-6471-2026-000123)."""

    __tablename__ = "case_reference_counters"

    city_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class CaseEvent(Base):
    """One step in a case's life (the timeline); appended, never changed."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_id_id", "case_id", "id"),)

    # increasing: steps taken in one request share a timestamp but keep their order
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), default=None)
    actor_role: Mapped[Role | None] = mapped_column(code_enum(Role, "case_event_actor_role"),
                                                    default=None)
    # reported, triaged, corrected, status_changed, routed, referral_created, referral_<status>
    kind: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[CaseStatus | None] = mapped_column(
        code_enum(CaseStatus, "case_event_from_status"), default=None)
    to_status: Mapped[CaseStatus | None] = mapped_column(
        code_enum(CaseStatus, "case_event_to_status"), default=None)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    # what the step set: risk level, assignee, agency and service, closure reason, …
    details: Mapped[dict] = mapped_column(JsonList, default=dict)
    note: Mapped[str | None] = mapped_column(Text, default=None)
