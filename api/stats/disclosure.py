"""Statistical disclosure control for the analyst's view of the KLA statistics.

Analysts get aggregate statistics only (DESIGN §4), and a count of one or two cases in a small
place can single a child out (UU PDP 27/2022; UU SPPA 11/2012 art. 19). The rules below hold for
any sequence of an analyst's requests, because every answer is a sum of one fixed set of
published cells; they are written out for users in docs/statistics-disclosure.md.

1. Fixed monthly releases: analysts see whole calendar months that have ended in the area's
   calendar, never the current month or a range of days. A kecamatan's month is released the
   first time an analyst asks for it, and its published cells are stored and never recomputed
   (stats/release.py), so asking again later, after a late report, answers the same.
2. Published cells: each count of a kecamatan's month is rounded to the nearest multiple of 5,
   0-2 to 0 (HESA standard rounding; OECD glossary of statistical disclosure control,
   "conventional rounding"); nothing is withheld, so a 0 never stands beside a withheld 1.
   Totals, rows, series and shares are sums and ratios of published cells only, never
   rounded raw totals, so no difference of published figures is a raw count.
3. Areas: a kecamatan or larger, answered in kecamatan rows; no kelurahan figure at all.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from api.errors import InvalidInput
from api.vocabularies.codes import RegionLevel

ROUNDING_BASE = 5
# the most a rounded count differs from its raw count
ROUNDING_ERROR = ROUNDING_BASE // 2
# HESA: percentages based on fewer than 22.5 people are suppressed; over published (rounded)
# bases the first base shown is 25
MIN_SHARE_BASE = 25
# bounds the work of one answer; every month of a longer span is one more request away
MAX_MONTHS = 36
METHODOLOGY = "docs/statistics-disclosure.md"


@dataclass(frozen=True)
class Months:
    """Whole calendar months, FIRST to LAST (each given by its first day)."""

    first: date
    last: date

    @property
    def first_day(self) -> date:
        return self.first

    @property
    def last_day(self) -> date:
        return next_month(self.last) - timedelta(days=1)

    def __iter__(self):
        month = self.first
        while month <= self.last:
            yield month
            month = next_month(month)

    def __len__(self) -> int:
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1


def next_month(month: date) -> date:
    """The first day of the month after MONTH."""
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def check_area(area) -> None:
    """Analysts ask for a kecamatan or a larger area: one kelurahan's counts are its few
    children."""
    if area.level is RegionLevel.VILLAGE:
        raise InvalidInput({"area": ["Analysts see a kecamatan or a larger area, in kecamatan "
                                     f"rows ({METHODOLOGY})."]})


def closed_months(*, first_day: date | None, last_day: date | None, today: date) -> Months:
    """The whole months FIRST_DAY..LAST_DAY, every one ended before TODAY (the area's
    calendar day); by default January to the last ended month of that month's year.

    A range that does not start on a month's first day, end on a month's last day, or ends in
    the current month is refused (422), not rounded: an answer is always about the months
    asked for.
    """
    latest = date(today.year, today.month, 1) - timedelta(days=1)  # last day of last month
    errors: dict[str, list[str]] = {}
    if first_day is not None and first_day.day != 1:
        errors["from"] = [f"Analysts see whole months: from must be the first day of a month "
                          f"({METHODOLOGY})."]
    if last_day is not None and last_day != next_month(last_day.replace(day=1)) - timedelta(1):
        errors.setdefault("to", []).append(
            f"Analysts see whole months: to must be the last day of a month ({METHODOLOGY}).")
    if last_day is not None and last_day > latest:
        errors.setdefault("to", []).append(
            f"Analysts see only months that have ended: the latest is {latest:%Y-%m}, to "
            f"{latest.isoformat()} ({METHODOLOGY}).")
    if errors:
        raise InvalidInput(errors)
    last = (last_day or latest).replace(day=1)
    first = first_day or date(last.year, 1, 1)
    if first > last:
        raise InvalidInput({"from": ["Must not be after to."]})
    months = Months(first, last)
    if len(months) > MAX_MONTHS:
        raise InvalidInput({"from": [f"At most {MAX_MONTHS} months in one answer."]})
    return months


def rounded(count: int) -> int:
    """COUNT rounded to the nearest multiple of 5, 0-2 to 0 and 3-7 to 5 (HESA standard
    rounding methodology: numbers below 2.5 to 0, halves up)."""
    return ROUNDING_BASE * ((count + ROUNDING_ERROR) // ROUNDING_BASE)


def published_cohort(counts: dict[str, int], *, forms: tuple[str, ...] = ()) -> dict[str, int]:
    """The published cells of one cohort — the cases of one category, or the children
    measured, in one kecamatan and month — from its raw COUNTS (cases or children).

    Every count is rounded (rounded()). FORMS name counts that together cover the cohort:
    every violence case has at least one form (SIMFONI). A cover lets a reader bound the
    forms from below: n forms published r_1..r_n hold at most sum(r) + 2n cases, so a count
    of the cohort published at sum(r) + 2n + 1 or more would prove that each form published
    as 0 holds one or two cases. No other count of the cohort is therefore published above
    sum(r) plus the largest multiple of 5 not above 2n (10 for the seven forms): where its
    nearest multiple is higher, the multiple below is published. That happens only when most
    forms hold 1-2 cases, and a published count then still lies within 5 of its raw count.
    """
    published = {name: rounded(count) for name, count in counts.items()}
    if forms:
        slack = ROUNDING_BASE * (ROUNDING_ERROR * len(forms) // ROUNDING_BASE)
        ceiling = sum(published[form] for form in forms) + slack
        for name in published:
            if name not in forms:
                published[name] = min(published[name], ceiling)
    return published


def share(part: int, base: int) -> float | None:
    """PART of BASE in percent (published counts both), or None under MIN_SHARE_BASE."""
    return round(100 * part / base, 1) if base >= MIN_SHARE_BASE else None
