"""A child named in a report, and the household the child lives in."""

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship, validates

from api.children import names
from api.crypto import EncryptedString, lookup_hash
from api.db import Base, JsonList, code_enum, created_at_column, updated_at_column, uuid_pk
from api.regions import calendar
from api.vocabularies.codes import HazCategory, Position, Sex, WazCategory, WhzCategory


class Child(Base):
    __tablename__ = "children"
    __table_args__ = (
        # possible duplicates and known children are looked up by kelurahan and birth date
        Index("ix_children_village_code_birth_date", "village_code", "birth_date"),
        # a search by part of the name (GET /cases?q=): trigrams on PostgreSQL (pg_trgm)
        Index("ix_children_name_key_trgm", "name_key", postgresql_using="gin",
              postgresql_ops={"name_key": "gin_trgm_ops"}),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(120))
    # the name as compared and searched (children/names.py): the same on every database
    name_key: Mapped[str] = mapped_column(String(120), server_default=text("''"))
    # one record per NIK within an area; a child known elsewhere gets a record here too,
    # linked to the other cases as a possible duplicate (never merged across areas).
    # Stored encrypted; found by its keyed hash (api/crypto.py)
    nik: Mapped[str | None] = mapped_column(EncryptedString, default=None)
    nik_hash: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    sex: Mapped[Sex] = mapped_column(code_enum(Sex, "child_sex"))
    birth_date: Mapped[date] = mapped_column(Date)
    # True when only an age in months was reported and birth_date was derived from it
    birth_date_estimated: Mapped[bool] = mapped_column(default=False)
    school: Mapped[str | None] = mapped_column(String(120), default=None)
    disability: Mapped[str | None] = mapped_column(String(120), default=None)
    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    rw: Mapped[str | None] = mapped_column(String(3), default=None)
    rt: Mapped[str | None] = mapped_column(String(3), default=None)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    # a child may be shared by several cases: its own version guards concurrent corrections
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    measurements: Mapped[list["Measurement"]] = relationship(
        lazy="selectin", order_by="Measurement.measured_on", viewonly=True)

    cases: Mapped[list["Case"]] = relationship(  # noqa: F821
        lazy="select", order_by="Case.created_at", viewonly=True)

    @validates("name")
    def _key_name(self, _key, name):
        self.name_key = names.name_key(name)
        return name

    @validates("nik")
    def _hash_nik(self, _key, nik):
        self.nik_hash = lookup_hash(nik)
        return nik

    @property
    def latest_measurement(self) -> "Measurement | None":
        return self.measurements[-1] if self.measurements else None

    @property
    def possible_matches(self) -> list[dict]:
        """Other records that may be this child (children/service.py: possible_matches)."""
        from api.children.service import possible_matches

        return [{"id": other.id, "name": other.name, "village_code": other.village_code,
                 "reason": reason}
                for other, reason in possible_matches(session=object_session(self), child=self)]

    @property
    def age_months(self) -> int:
        """Completed months of age today, in the calendar of the child's kelurahan."""
        return calendar.age_months(self.birth_date, self.village_code)


class Household(Base):
    __tablename__ = "households"
    __table_args__ = (
        CheckConstraint("welfare_decile BETWEEN 1 AND 10", name="welfare_decile_range"),
        CheckConstraint("members_count BETWEEN 1 AND 50", name="members_count_range"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    kk_number: Mapped[str | None] = mapped_column(EncryptedString, default=None)
    kk_hash: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    head_name: Mapped[str | None] = mapped_column(String(120), default=None)
    members_count: Mapped[int | None] = mapped_column(Integer, default=None)
    # DTSEN welfare decile (1 = poorest tenth), None when not registered
    welfare_decile: Mapped[int | None] = mapped_column(Integer, default=None)
    receives: Mapped[list[str]] = mapped_column(JsonList, default=list)
    economic_stressors: Mapped[list[str]] = mapped_column(JsonList, default=list)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    @validates("kk_number")
    def _hash_kk(self, _key, kk_number):
        self.kk_hash = lookup_hash(kk_number)
        return kk_number


class Measurement(Base):
    """One weighing and measuring of a child at the posyandu, with its WHO assessment."""

    __tablename__ = "measurements"
    __table_args__ = (
        Index("ix_measurements_child_id_measured_on", "child_id", "measured_on"),
        Index("ix_measurements_measured_on", "measured_on"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"))
    measured_on: Mapped[date] = mapped_column(Date)
    age_days: Mapped[int] = mapped_column(Integer)
    weight_kg: Mapped[float] = mapped_column(Float)
    height_cm: Mapped[float] = mapped_column(Float)
    position: Mapped[Position] = mapped_column(code_enum(Position, "measurement_position"))
    muac_cm: Mapped[float | None] = mapped_column(Float, default=None)
    # a z-score WHO anthro flags as implausible is None, its code in `flags` (children/growth.py)
    haz: Mapped[float | None] = mapped_column(Float, default=None)
    waz: Mapped[float | None] = mapped_column(Float, default=None)
    whz: Mapped[float | None] = mapped_column(Float, default=None)
    haz_category: Mapped[HazCategory | None] = mapped_column(
        code_enum(HazCategory, "haz_category"), default=None)
    waz_category: Mapped[WazCategory | None] = mapped_column(
        code_enum(WazCategory, "waz_category"), default=None)
    whz_category: Mapped[WhzCategory | None] = mapped_column(
        code_enum(WhzCategory, "whz_category"), default=None)
    flags: Mapped[list[str]] = mapped_column(JsonList, default=list)
    # the stunting-risk case this measurement opened or found open, if any
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), default=None)
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
