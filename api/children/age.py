"""Ages of children: completed months, and the legal limit of childhood."""

from datetime import date

# UU 35/2014 art. 1: a child is anyone under 18 years of age
ADULT_AGE_YEARS = 18
ADULT_AGE_MONTHS = ADULT_AGE_YEARS * 12


def months_between(birth_date: date, on: date) -> int:
    """Completed months of age on a day."""
    months = (on.year - birth_date.year) * 12 + on.month - birth_date.month
    if on.day < birth_date.day:
        months -= 1
    return months


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
    return months_between(birth_date, on) < ADULT_AGE_MONTHS
