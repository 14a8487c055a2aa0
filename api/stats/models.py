"""The analysts' monthly releases of the KLA statistics (stats/release.py).

A release is one kecamatan's calendar month, fixed the first time an analyst asks for it after
the month has ended. Only published values are stored — each a multiple of 5 — never a raw
count, and a stored value is never recomputed: a late report of an old month cannot move a
figure that analysts have already seen.
"""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime, utcnow


class StatisticsRelease(Base):
    """One kecamatan's month, released to analysts: its cells are fixed from then on."""

    __tablename__ = "stats_releases"

    district_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the month's first day
    released_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)


class StatisticsReleaseCell(Base):
    """One published value of a release; a measure missing from a release was published as 0."""

    __tablename__ = "stats_release_cells"
    __table_args__ = (
        ForeignKeyConstraint(["district_code", "month"],
                             ["stats_releases.district_code", "stats_releases.month"],
                             ondelete="CASCADE"),
        # a raw count must never be stored here (docs/statistics-disclosure.md)
        CheckConstraint("value > 0 AND value % 5 = 0", name="rounded"),
    )

    district_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    measure: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False)


# ---------- roll-ups of the KLA dashboard (stats/rollups.py) ----------

SerialId = BigInteger().with_variant(Integer(), "sqlite")
# a kelurahan-day holding no open case is left out of this index: open cases are counted from
# the beginning of time up to TO, and only the last weeks' days hold any
_HOLDS_OPEN_CASES = text("open_cases <> 0")


class KlaDay(Base):
    """What the cases of one kelurahan add to the dashboard on one day of its calendar.

    Rows are deltas: the figure of a (village_code, day) is the SUM of its rows (rollups.py
    explains why, and folds them). Counts of the cases reported that day — by category, by
    violence type, triaged on time or late, still open — and of the cases closed that day,
    by closure reason.
    """

    __tablename__ = "kla_days"
    __table_args__ = (
        Index("ix_kla_days_village_code_day", "village_code", "day"),
        Index("ix_kla_days_open", "village_code", "day", postgresql_include=["open_cases"],
              postgresql_where=_HOLDS_OPEN_CASES, sqlite_where=_HOLDS_OPEN_CASES),
    )

    id: Mapped[int] = mapped_column(SerialId, primary_key=True, autoincrement=True)
    village_code: Mapped[str] = mapped_column(String(10))
    day: Mapped[date] = mapped_column(Date)
    violence: Mapped[int] = mapped_column(Integer, default=0)
    stunting_risk: Mapped[int] = mapped_column(Integer, default=0)
    type_physical: Mapped[int] = mapped_column(Integer, default=0)
    type_psychological: Mapped[int] = mapped_column(Integer, default=0)
    type_sexual: Mapped[int] = mapped_column(Integer, default=0)
    type_exploitation: Mapped[int] = mapped_column(Integer, default=0)
    type_trafficking: Mapped[int] = mapped_column(Integer, default=0)
    type_neglect: Mapped[int] = mapped_column(Integer, default=0)
    type_other: Mapped[int] = mapped_column(Integer, default=0)
    triaged_on_time: Mapped[int] = mapped_column(Integer, default=0)
    triaged_late: Mapped[int] = mapped_column(Integer, default=0)
    open_cases: Mapped[int] = mapped_column(Integer, default=0)
    closed_resolved: Mapped[int] = mapped_column(Integer, default=0)
    closed_unfounded: Mapped[int] = mapped_column(Integer, default=0)
    closed_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    closed_transferred_out: Mapped[int] = mapped_column(Integer, default=0)
    closed_not_reachable: Mapped[int] = mapped_column(Integer, default=0)
    closed_withdrawn: Mapped[int] = mapped_column(Integer, default=0)


class KlaReferralDay(Base):
    """The referrals of the cases one kelurahan reported on one day, per agency and status:
    how many, and how many were accepted on time or late (deltas, summed as KlaDay's)."""

    __tablename__ = "kla_referral_days"
    __table_args__ = (
        Index("ix_kla_referral_days_village_code_day", "village_code", "day"),
    )

    id: Mapped[int] = mapped_column(SerialId, primary_key=True, autoincrement=True)
    village_code: Mapped[str] = mapped_column(String(10))
    day: Mapped[date] = mapped_column(Date)
    agency_code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20))
    referrals: Mapped[int] = mapped_column(Integer, default=0)
    accepted_on_time: Mapped[int] = mapped_column(Integer, default=0)
    accepted_late: Mapped[int] = mapped_column(Integer, default=0)


class KlaMonth(Base):
    """KlaDay's counts for a whole month of the kelurahan's calendar (MONTH: its first day),
    kept beside the days so that a period reads one row per kelurahan-month for its whole
    months and day rows only for the partial months at its edges (deltas, summed as
    KlaDay's)."""

    __tablename__ = "kla_months"
    __table_args__ = (
        Index("ix_kla_months_village_code_month", "village_code", "month"),
    )

    id: Mapped[int] = mapped_column(SerialId, primary_key=True, autoincrement=True)
    village_code: Mapped[str] = mapped_column(String(10))
    month: Mapped[date] = mapped_column(Date)
    violence: Mapped[int] = mapped_column(Integer, default=0)
    stunting_risk: Mapped[int] = mapped_column(Integer, default=0)
    type_physical: Mapped[int] = mapped_column(Integer, default=0)
    type_psychological: Mapped[int] = mapped_column(Integer, default=0)
    type_sexual: Mapped[int] = mapped_column(Integer, default=0)
    type_exploitation: Mapped[int] = mapped_column(Integer, default=0)
    type_trafficking: Mapped[int] = mapped_column(Integer, default=0)
    type_neglect: Mapped[int] = mapped_column(Integer, default=0)
    type_other: Mapped[int] = mapped_column(Integer, default=0)
    triaged_on_time: Mapped[int] = mapped_column(Integer, default=0)
    triaged_late: Mapped[int] = mapped_column(Integer, default=0)
    open_cases: Mapped[int] = mapped_column(Integer, default=0)
    closed_resolved: Mapped[int] = mapped_column(Integer, default=0)
    closed_unfounded: Mapped[int] = mapped_column(Integer, default=0)
    closed_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    closed_transferred_out: Mapped[int] = mapped_column(Integer, default=0)
    closed_not_reachable: Mapped[int] = mapped_column(Integer, default=0)
    closed_withdrawn: Mapped[int] = mapped_column(Integer, default=0)


class KlaReferralMonth(Base):
    """KlaReferralDay's counts for a whole month (MONTH: its first day), as KlaMonth."""

    __tablename__ = "kla_referral_months"
    __table_args__ = (
        Index("ix_kla_referral_months_village_code_month", "village_code", "month"),
    )

    id: Mapped[int] = mapped_column(SerialId, primary_key=True, autoincrement=True)
    village_code: Mapped[str] = mapped_column(String(10))
    month: Mapped[date] = mapped_column(Date)
    agency_code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20))
    referrals: Mapped[int] = mapped_column(Integer, default=0)
    accepted_on_time: Mapped[int] = mapped_column(Integer, default=0)
    accepted_late: Mapped[int] = mapped_column(Integer, default=0)


class KlaDuration(Base):
    """The times from report to triage ("triage") or to the first accepted referral
    ("acceptance") of the cases one kelurahan reported in one month of its calendar (MONTH:
    its first day). DURATIONS is a JSON list of [day of the month, microseconds, cases]: CASES
    of the cases reported that day took exactly MICROSECONDS — the stored timestamps' own
    precision, so the medians read from it are exact, and the day lets a period that ends
    inside the month keep only its days. A delta row's CASES may be negative (a duration
    that changed or left); the figure of a key is the sum of its rows' lists, and a folded
    row holds only positive counts."""

    __tablename__ = "kla_durations"
    __table_args__ = (
        Index("ix_kla_durations_measure_village_code_month", "measure", "village_code",
              "month"),
    )

    id: Mapped[int] = mapped_column(SerialId, primary_key=True, autoincrement=True)
    village_code: Mapped[str] = mapped_column(String(10))
    month: Mapped[date] = mapped_column(Date)
    measure: Mapped[str] = mapped_column(String(12))
    durations: Mapped[list] = mapped_column(JSON)


from api.stats import rollups  # noqa: E402, F401  (its flush listener keeps the tables above)
