"""The region's calendar (DESIGN §5): "today", "now in the city", ages and day boundaries.

Indonesia keeps three zones (Keppres 41/1987): WIB (UTC+7), WITA (UTC+8) and WIT (UTC+9), by
province. Every date rule of Lindung — a date not in the future, a child under 18, ages in
days and months, school age, day filters, reference years, statistics' days and months — is
reckoned here in the local time of the region it concerns, never in the server's UTC date:
between 00:00 and 08:00 WITA the UTC date is still yesterday.

Instants are stored and compared in UTC; a region's calendar turns them into local days and
back. Regions outside the table, and requests that concern no region, use the deployment's
zone (`LINDUNG_TIMEZONE`, WITA by default).
"""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, true

WIB, WITA, WIT = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")
# Kemendagri province codes → zone (Keppres 41/1987). West and Central Kalimantan (61, 62)
# keep WIB; the Papua provinces formed in 2022 are 93-96.
PROVINCE_ZONES: dict[str, ZoneInfo] = {
    **dict.fromkeys(("11", "12", "13", "14", "15", "16", "17", "18", "19", "21",
                     "31", "32", "33", "34", "35", "36", "61", "62"), WIB),
    **dict.fromkeys(("51", "52", "53", "63", "64", "65",
                     "71", "72", "73", "74", "75", "76"), WITA),
    **dict.fromkeys(("81", "82", "91", "92", "93", "94", "95", "96"), WIT),
}

# UU 35/2014 art. 1: a child is anyone under 18 years of age
ADULT_AGE_YEARS = 18
ADULT_AGE_MONTHS = ADULT_AGE_YEARS * 12

_default_zone: ZoneInfo = WITA


def configure(default_zone: str) -> None:
    """Set the zone of regions outside the table (LINDUNG_TIMEZONE, an IANA name)."""
    global _default_zone
    _default_zone = ZoneInfo(default_zone)


def default_zone() -> ZoneInfo:
    return _default_zone


def zone_of(region_code: str | None) -> ZoneInfo:
    """The zone of a region of any level (its province's), or the deployment's zone."""
    if region_code and len(region_code) >= 2:
        return PROVINCE_ZONES.get(region_code[:2], _default_zone)
    return _default_zone


def now_in(region_code: str | None) -> datetime:
    """The current local time of a region (aware)."""
    return datetime.now(UTC).astimezone(zone_of(region_code))


def local_day(instant: datetime, region_code: str | None) -> date:
    """The region's calendar day at an instant (aware, any zone)."""
    return instant.astimezone(zone_of(region_code)).date()


def today_in(region_code: str | None) -> date:
    """The region's calendar day now."""
    return now_in(region_code).date()


def today_anywhere() -> date:
    """The latest calendar day of the country now (WIT's): a day after it is in the future
    in every region."""
    return datetime.now(UTC).astimezone(WIT).date()


def day_start(day: date, region_code: str | None = None, *, zone: ZoneInfo | None = None
              ) -> datetime:
    """The UTC instant at which DAY begins in a region (or in ZONE)."""
    local = datetime.combine(day, time.min, tzinfo=zone or zone_of(region_code))
    return local.astimezone(UTC)


# ---------- ages ----------

def months_between(birth_date: date, on: date) -> int:
    """Completed months of age on a day (a birthday counts from its own day)."""
    months = (on.year - birth_date.year) * 12 + on.month - birth_date.month
    if on.day < birth_date.day:
        months -= 1
    return months


def age_months(birth_date: date, region_code: str | None) -> int:
    """Completed months of age today in the region."""
    return months_between(birth_date, today_in(region_code))


def age_years(birth_date: date, on: date) -> int:
    """Completed years of age on a day."""
    return months_between(birth_date, on) // 12


def estimated_birth_date(age_months: int, on: date) -> date:
    """A birth date giving AGE_MONTHS on ON (the same day of the month, clamped)."""
    total = on.year * 12 + on.month - 1 - age_months
    year, month = divmod(total, 12)
    month += 1
    for day in (on.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def is_child(birth_date: date, on: date) -> bool:
    """Under 18 on ON (UU 35/2014 art. 1): on the 18th birthday a person is an adult."""
    return months_between(birth_date, on) < ADULT_AGE_MONTHS


# ---------- day boundaries in SQL ----------

def between_days(instant_column, region_column, *, first: date | None, last: date | None,
                 area_codes=()):
    """SQL condition: INSTANT_COLUMN falls on a local day FIRST..LAST (inclusive) of the
    zone of REGION_COLUMN's province.

    AREA_CODES (the caller's areas) name the zones in play; with one zone — a city's, a
    province's — the condition is a plain range on the instant, which an index serves.
    """
    if first is None and last is None:
        return true()
    zones = _zones_of(area_codes)

    def in_zone(zone):
        bounds = []
        if first is not None:
            bounds.append(instant_column >= day_start(first, zone=zone))
        if last is not None:
            bounds.append(instant_column < day_start(last + timedelta(days=1), zone=zone))
        return and_(*bounds)

    if len(zones) == 1:
        return in_zone(next(iter(zones)))
    province = func.substr(region_column, 1, 2)
    listed = list(PROVINCE_ZONES)
    clauses = []
    for zone, provinces in _provinces_by_zone().items():
        if zone not in zones:
            continue
        where = province.in_(provinces)
        if zone == _default_zone:
            where = or_(where, province.not_in(listed))
        clauses.append(and_(where, in_zone(zone)))
    return or_(*clauses)


def _zones_of(area_codes) -> set[ZoneInfo]:
    if area_codes and all(len(code) >= 2 for code in area_codes):
        return {zone_of(code) for code in area_codes}
    return {*PROVINCE_ZONES.values(), _default_zone}


def _provinces_by_zone() -> dict[ZoneInfo, list[str]]:
    grouped: dict[ZoneInfo, list[str]] = defaultdict(list)
    for province, zone in PROVINCE_ZONES.items():
        grouped[zone].append(province)
    grouped.setdefault(_default_zone, [])
    return grouped


def utc_offset_minutes(zone: ZoneInfo, at: datetime) -> int:
    """The zone's offset from UTC at an instant, in minutes (Indonesia keeps no DST)."""
    return int(at.astimezone(zone).utcoffset().total_seconds() // 60)


# ---------- the date rules of a report (DESIGN §5) ----------

def report_date_problems(region_code: str | None, *, birth_date: date | None,
                         incident_date: date | None, reported_on: date | None = None
                         ) -> dict[str, list[str]]:
    """What is wrong with a report's dates in its kelurahan's calendar: none in the future,
    no incident before birth, and a child under 18 on the day of the report (UU 35/2014 art.
    1; REPORTED_ON defaults to today). Keys: "birth_date", "incident_date"."""
    today = today_in(region_code)
    errors: dict[str, list[str]] = {}
    if birth_date is not None:
        if birth_date > today:
            errors["birth_date"] = ["Must not be in the future."]
        elif not is_child(birth_date, reported_on or today):
            errors["birth_date"] = ["The person must be under 18 years old."]
    if incident_date is not None:
        if incident_date > today:
            errors["incident_date"] = ["Must not be in the future."]
        elif birth_date is not None and incident_date < birth_date:
            errors["incident_date"] = ["Must not be before the child was born."]
    return errors


def not_in_future_problems(region_code: str | None, **days: date | None
                           ) -> dict[str, list[str]]:
    """Each named day later than today in the region's calendar, with its message."""
    today = today_in(region_code)
    return {name: ["Must not be in the future."]
            for name, day in days.items() if day is not None and day > today}
