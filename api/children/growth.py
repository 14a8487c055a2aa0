"""WHO Child Growth Standards (2006): z-scores by the LMS method and the Indonesian nutrition
categories of Permenkes 2/2020.

WHO rules followed (WHO 2006, "Computation of centiles and z-scores"; WHO Anthro):
- age in completed days; the daily tables cover 0-1826 days (0-60 months);
- length is measured lying before 731 days and height standing from then on; a measurement
  taken the other way is converted by 0.7 cm (standing = lying - 0.7);
- weight-for-length below 731 days (45-110 cm), weight-for-height from 731 days (65-120 cm),
  interpolating L, M, S between the 0.1 cm rows;
- for the weight indicators, beyond ±3 SD the distance is measured in units of the SD2-SD3
  interval ("restricted" z), because their distributions are skewed;
- biologically implausible values (|haz| > 6, waz < -6 or > 5, |whz| > 5) are refused.
"""

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from api.vocabularies.codes import HazCategory, Position, WazCategory, WhzCategory

TABLES = Path(__file__).parent / "data" / "who_growth_lms.json"
LAST_DAY = 1826  # 60 months
HEIGHT_FROM_DAY = 731  # 24 months: standing height from here on
LYING_TO_STANDING_CM = 0.7
WFL_RANGE = (45.0, 110.0)
WFH_RANGE = (65.0, 120.0)


class ImplausibleMeasurement(ValueError):
    """A value WHO flags as biologically implausible, or outside the standards' range."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Lms:
    l: float  # noqa: E741 - the standard's own name
    m: float
    s: float

    def z(self, value: float) -> float:
        """The LMS z-score of VALUE (Cole's formula)."""
        if self.l == 0:
            return math.log(value / self.m) / self.s
        return ((value / self.m) ** self.l - 1) / (self.l * self.s)

    def at(self, z: float) -> float:
        """The measurement at z-score Z."""
        if self.l == 0:
            return self.m * math.exp(self.s * z)
        return self.m * (1 + self.l * self.s * z) ** (1 / self.l)

    def restricted_z(self, value: float) -> float:
        """WHO's z for the weight indicators: linear beyond ±3 SD, in SD2-SD3 steps."""
        z = self.z(value)
        if z > 3:
            sd3 = self.at(3)
            return 3 + (value - sd3) / (sd3 - self.at(2))
        if z < -3:
            sd3neg = self.at(-3)
            return -3 + (value - sd3neg) / (self.at(-2) - sd3neg)
        return z


@dataclass(frozen=True)
class Assessment:
    """The z-scores and categories of one measurement."""

    age_days: int
    length_cm: float  # as the standards want it for the age: length or height
    haz: float
    waz: float
    whz: float | None  # None outside the weight-for-length/height ranges
    haz_category: HazCategory
    waz_category: WazCategory
    whz_category: WhzCategory | None


@cache
def _tables() -> dict:
    raw = json.loads(TABLES.read_text())
    return {
        name: {sex: {round(row[0] * 10) if name in ("wfl", "wfh") else row[0]: Lms(*row[1:])
                     for row in rows}
               for sex, rows in by_sex.items()}
        for name, by_sex in raw.items()
    }


def by_age(indicator: str, sex: str, age_days: int) -> Lms:
    return _tables()[indicator][sex][age_days]


def by_length(indicator: str, sex: str, length_cm: float) -> Lms:
    """L, M, S at LENGTH_CM, interpolated linearly between the 0.1 cm rows."""
    table = _tables()[indicator][sex]
    tenths = length_cm * 10
    low = math.floor(round(tenths, 6))
    if low == round(tenths, 6):
        return table[low]
    below, above = table[low], table[low + 1]
    weight = tenths - low
    return Lms(*(a + (b - a) * weight for a, b in ((below.l, above.l), (below.m, above.m),
                                                   (below.s, above.s))))


def standard_length(age_days: int, measured_cm: float, position: Position) -> float:
    """Length (under 731 days) or height (from 731 days), converting by 0.7 cm if needed."""
    if age_days < HEIGHT_FROM_DAY and position is Position.STANDING:
        return measured_cm + LYING_TO_STANDING_CM
    if age_days >= HEIGHT_FROM_DAY and position is Position.LYING:
        return measured_cm - LYING_TO_STANDING_CM
    return measured_cm


def assess(*, sex: str, age_days: int, weight_kg: float, length_cm: float,
           position: Position) -> Assessment:
    """Z-scores and categories of one measurement; ImplausibleMeasurement when refused."""
    if not 0 <= age_days <= LAST_DAY:
        raise ImplausibleMeasurement("measured_on", "The child must be 0-60 months old.")
    length = standard_length(age_days, length_cm, position)
    haz = round(by_age("lhfa", sex, age_days).z(length), 2)
    waz = round(by_age("wfa", sex, age_days).restricted_z(weight_kg), 2)
    indicator, (low, high) = (("wfl", WFL_RANGE) if age_days < HEIGHT_FROM_DAY
                              else ("wfh", WFH_RANGE))
    whz = (round(by_length(indicator, sex, length).restricted_z(weight_kg), 2)
           if low <= length <= high else None)
    if abs(haz) > 6:
        raise ImplausibleMeasurement("height_cm", f"Implausible length/height for age "
                                                  f"(z = {haz}); please measure again.")
    if not -6 <= waz <= 5:
        raise ImplausibleMeasurement("weight_kg", f"Implausible weight for age (z = {waz}); "
                                                  "please weigh again.")
    if whz is not None and abs(whz) > 5:
        raise ImplausibleMeasurement("weight_kg", f"Implausible weight for length/height "
                                                  f"(z = {whz}); please measure again.")
    return Assessment(
        age_days=age_days, length_cm=length, haz=haz, waz=waz, whz=whz,
        haz_category=haz_category(haz), waz_category=waz_category(waz),
        whz_category=whz_category(whz) if whz is not None else None,
    )


def haz_category(haz: float) -> HazCategory:
    """Permenkes 2/2020, TB/U (PB/U)."""
    if haz < -3:
        return HazCategory.SEVERELY_STUNTED
    if haz < -2:
        return HazCategory.STUNTED
    return HazCategory.TALL if haz > 3 else HazCategory.NORMAL


def waz_category(waz: float) -> WazCategory:
    """Permenkes 2/2020, BB/U."""
    if waz < -3:
        return WazCategory.SEVERELY_UNDERWEIGHT
    if waz < -2:
        return WazCategory.UNDERWEIGHT
    return WazCategory.RISK_OF_OVERWEIGHT if waz > 1 else WazCategory.NORMAL


def whz_category(whz: float) -> WhzCategory:
    """Permenkes 2/2020, BB/PB or BB/TB."""
    if whz < -3:
        return WhzCategory.SEVERELY_WASTED
    if whz < -2:
        return WhzCategory.WASTED
    if whz <= 1:
        return WhzCategory.NORMAL
    if whz <= 2:
        return WhzCategory.POSSIBLE_RISK_OF_OVERWEIGHT
    return WhzCategory.OVERWEIGHT if whz <= 3 else WhzCategory.OBESE
