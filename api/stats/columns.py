"""SQL expressions the statistics group and count by, the same on both databases."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from api.cases.models import Case
from api.regions import calendar
from api.vocabularies.codes import ViolenceType


def month_of(column, *, zone: ZoneInfo, postgresql: bool, at: datetime):
    """The calendar month in ZONE of a timestamp column (read it with month_start())."""
    if postgresql:  # date_trunc is cheaper than formatting every row with to_char
        return func.date_trunc("month", func.timezone(str(zone), column))
    # SQLite has no zones: the zone's offset at AT (Indonesia keeps one all year)
    minutes = calendar.utc_offset_minutes(zone, at)
    return func.strftime("%Y-%m", column, f"{minutes:+d} minutes")


def month_of_day(column, *, postgresql: bool):
    """The calendar month of a date column (read it with month_start())."""
    if postgresql:
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def month_start(value) -> date:
    """The first day of a month read from month_of() or month_of_day()."""
    if isinstance(value, str):
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    return date(value.year, value.month, 1)


def has_violence_type(kind: ViolenceType, *, postgresql: bool):
    """Whether a case's violence_types (a JSON list) holds KIND."""
    if postgresql:
        return type_coerce(Case.violence_types, JSONB).contains([kind.value])
    return func.json_extract(Case.violence_types, "$").like(f'%"{kind.value}"%')


def district_of(village_column):
    """The kecamatan code of a kelurahan code (its first 6 digits, Kemendagri 2.2.2.4)."""
    return func.substr(village_column, 1, 6)
