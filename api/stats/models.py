"""The analysts' monthly releases of the KLA statistics (stats/release.py).

A release is one kecamatan's calendar month, fixed the first time an analyst asks for it after
the month has ended. Only published values are stored — each a multiple of 5 — never a raw
count, and a stored value is never recomputed: a late report of an old month cannot move a
figure that analysts have already seen.
"""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, ForeignKeyConstraint, Integer, String
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
