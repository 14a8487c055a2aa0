"""The case table and the per-city, per-year reference counter."""

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
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


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_village_code_created_at", "village_code", "created_at"),
        Index("ix_cases_reporter_id_created_at", "reporter_id", "created_at"),
        Index("ix_cases_status_triage_due_at", "status", "triage_due_at"),
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
    needs_attention: Mapped[bool] = mapped_column(default=False)
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
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # optimistic concurrency: every UPDATE checks and bumps it, so racing writes cannot both win
    version: Mapped[int] = mapped_column(Integer, default=1)

    child: Mapped[Child] = relationship(lazy="joined", innerjoin=True)
    household: Mapped[Household | None] = relationship(lazy="joined")
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="raise")

    duplicate_links: Mapped[list["PossibleDuplicate"]] = relationship(
        foreign_keys="PossibleDuplicate.case_id", lazy="selectin", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def overdue(self) -> bool:
        """Still waiting for triage after its triage deadline."""
        return self.status is CaseStatus.REPORTED and self.triage_due_at <= utcnow()

    @property
    def reporter_summary(self) -> dict:
        return {"id": self.reporter_id, "role": self.reporter_role}

    @property
    def possible_duplicates(self) -> list[dict]:
        return [
            {"id": link.other_case_id, "reference": link.other_case.reference,
             "reason": link.reason}
            for link in self.duplicate_links
        ]


class PossibleDuplicate(Base):
    """Another open case that may be about the same child; linked, never merged silently."""

    __tablename__ = "case_possible_duplicates"

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    other_case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    reason: Mapped[str] = mapped_column(String(40))

    other_case: Mapped[Case] = relationship(foreign_keys=[other_case_id], lazy="joined")


class CaseReferenceCounter(Base):
    """The last case number given in a city and year (KS-6471-2026-000123)."""

    __tablename__ = "case_reference_counters"

    city_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)
