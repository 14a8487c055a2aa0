"""WHO Child Growth Standards (2006): z-scores by the LMS method, flagged as WHO's anthro
software flags them, and the Indonesian nutrition categories of Permenkes 2/2020.

The rules are those of WHO's R package `anthro` 1.1.0 (github.com/WorldHealthOrganization/anthro,
GPL-3; lines as at commit 0a74bae of that repository, R/z-score-length-for-age.R as at
4cca191 and R/prevalence.R as at 0107cca):
- age in completed days, and months = days / 30.4375 (`ANTHRO_DAYS_OF_MONTH`,
  R/anthro-package.R); z-scores only under 60 months (R/z-score.R:131, R/z-score-helper.R
  `valid_age <- age_in_months < 60`): days 0-1826, other ages are refused;
- length is measured lying before 731 days and height standing from then on; a measurement taken
  the other way is converted: standing before 731 days adds 0.7 cm, lying from 731 days
  subtracts 0.7 cm (`adjust_lenhei`, R/z-score-helper.R:113-126);
- except a child under 9 months (days / 30.4375 < 9: day 273 still is, day 274 is not) measured
  standing: the position is taken as implausible, the height is used as measured, without
  conversion, and the measurement is flagged (`age_in_months < 9`, `c9mo_flag`,
  R/z-score.R:251-259);
- weight-for-length below 731 days (45-110 cm), weight-for-height from 731 days (65-120 cm),
  L, M, S interpolated between the 0.1 cm rows (R/z-score-weight-for-lenhei.R); outside those
  lengths there is no whz;
- for the weight indicators, beyond ±3 SD the distance is measured in units of the SD2-SD3
  interval ("restricted" z, `compute_zscore_adjusted`, R/z-score-helper.R:44-46);
- z-scores are rounded to 2 decimals, then flagged as biologically implausible: |haz| > 6,
  waz < -6 or > 5, |whz| > 5 (`flag_zscore`, R/z-score-helper.R:82-90; thresholds
  R/z-score-length-for-age.R:19, R/z-score-weight-for-age.R:20,
  R/z-score-weight-for-lenhei.R:26; documented R/z-score.R:102-108);
- a flagged z-score counts as missing, as in WHO's own analysis (`anthro_prevalence`, "Make
  z-score as missing if it is flagged", R/prevalence.R:253-261): it is answered as None with no
  category and its code in `flags`, while the other z-scores stand and are used.
"""

import enum
import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from api.vocabularies.codes import HazCategory, Position, WazCategory, WhzCategory

TABLES = Path(__file__).parent / "data" / "who_growth_lms.json"
LAST_DAY = 1826  # the last day under 60 months
DAYS_PER_MONTH = 30.4375  # anthro's ANTHRO_DAYS_OF_MONTH
HEIGHT_FROM_DAY = 731  # 24 months: standing height from here on
LYING_TO_STANDING_CM = 0.7
STANDING_FROM_MONTHS = 9  # younger children measured standing are flagged, not converted
WFL_RANGE = (45.0, 110.0)
WFH_RANGE = (65.0, 120.0)


class GrowthFlag(enum.StrEnum):
    """What WHO anthro flags in a measurement (its column in anthro_zscores' result)."""

    STANDING_UNDER_9_MONTHS = "standing_under_9_months"  # c9mo_flag
    HAZ_IMPLAUSIBLE = "haz_implausible"  # flen: |haz| > 6
    WAZ_IMPLAUSIBLE = "waz_implausible"  # fwei: waz < -6 or > 5
    WHZ_IMPLAUSIBLE = "whz_implausible"  # fwfl: |whz| > 5


# plausible z-scores lie within these bounds, both included (anthro's flag_threshold)
PLAUSIBLE = {GrowthFlag.HAZ_IMPLAUSIBLE: (-6.0, 6.0), GrowthFlag.WAZ_IMPLAUSIBLE: (-6.0, 5.0),
             GrowthFlag.WHZ_IMPLAUSIBLE: (-5.0, 5.0)}


class ImplausibleMeasurement(ValueError):
    """A measurement the standards cannot assess: the child is not 0-60 months old."""

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
        """WHO's z of VALUE (kg) for the weight indicators: linear beyond ±3 SD, in SD2-SD3
        steps (WHO 2006, ch. 7; anthro `compute_zscore_adjusted`, R/z-score-helper.R:44-46)."""
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
    """The z-scores, categories and WHO flags of one measurement; a flagged z-score is None."""

    age_days: int
    length_cm: float  # as the standards want it for the age: length or height
    haz: float | None
    waz: float | None
    whz: float | None  # also None outside the weight-for-length/height ranges
    haz_category: HazCategory | None
    waz_category: WazCategory | None
    whz_category: WhzCategory | None
    flags: tuple[GrowthFlag, ...] = ()


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
    """L, M, S of INDICATOR (`lhfa`, `wfa`) for SEX on day AGE_DAYS of life (WHO daily tables)."""
    return _tables()[indicator][sex][age_days]


def by_length(indicator: str, sex: str, length_cm: float) -> Lms:
    """L, M, S of INDICATOR (`wfl`, `wfh`) at LENGTH_CM (cm), interpolated linearly between the
    0.1 cm rows (anthro, R/z-score-weight-for-lenhei.R)."""
    table = _tables()[indicator][sex]
    tenths = length_cm * 10
    low = math.floor(round(tenths, 6))
    if low == round(tenths, 6):
        return table[low]
    below, above = table[low], table[low + 1]
    weight = tenths - low
    return Lms(*(a + (b - a) * weight for a, b in ((below.l, above.l), (below.m, above.m),
                                                   (below.s, above.s))))


def standing_under_9_months(age_days: int, position: Position) -> bool:
    """Whether a child AGE_DAYS (days) old was measured standing before 9 months (days / 30.4375
    < 9), a position WHO anthro flags as implausible (R/z-score.R:251-257)."""
    return position is Position.STANDING and age_days / DAYS_PER_MONTH < STANDING_FROM_MONTHS


def standard_length(age_days: int, measured_cm: float, position: Position) -> float:
    """Length (under 731 days) or height (from 731 days) in cm from MEASURED_CM: +0.7 cm for
    standing under 731 days, -0.7 cm for lying from 731 days, except that a child under 9
    months measured standing keeps the height as measured (anthro, R/z-score.R:251-259 and
    `adjust_lenhei`, R/z-score-helper.R:113-126)."""
    if standing_under_9_months(age_days, position):
        return measured_cm
    if age_days < HEIGHT_FROM_DAY and position is Position.STANDING:
        return measured_cm + LYING_TO_STANDING_CM
    if age_days >= HEIGHT_FROM_DAY and position is Position.LYING:
        return measured_cm - LYING_TO_STANDING_CM
    return measured_cm


def assess(*, sex: str, age_days: int, weight_kg: float, length_cm: float,
           position: Position) -> Assessment:
    """Z-scores (2 decimals), categories and WHO flags of a child AGE_DAYS (days) old weighing
    WEIGHT_KG (kg) and measuring LENGTH_CM (cm) in POSITION. A z-score WHO anthro flags is None
    and named in `flags`; ImplausibleMeasurement when the child is not 0-60 months old."""
    if not 0 <= age_days <= LAST_DAY:
        raise ImplausibleMeasurement("measured_on", "The child must be 0-60 months old.")
    flags = [GrowthFlag.STANDING_UNDER_9_MONTHS] if standing_under_9_months(
        age_days, position) else []
    length = standard_length(age_days, length_cm, position)
    haz = _plausible(round(by_age("lhfa", sex, age_days).z(length), 2),
                     GrowthFlag.HAZ_IMPLAUSIBLE, flags)
    waz = _plausible(round(by_age("wfa", sex, age_days).restricted_z(weight_kg), 2),
                     GrowthFlag.WAZ_IMPLAUSIBLE, flags)
    whz = _plausible(_whz(sex=sex, age_days=age_days, weight_kg=weight_kg, length_cm=length),
                     GrowthFlag.WHZ_IMPLAUSIBLE, flags)
    return Assessment(
        age_days=age_days, length_cm=length, haz=haz, waz=waz, whz=whz,
        haz_category=haz_category(haz) if haz is not None else None,
        waz_category=waz_category(waz) if waz is not None else None,
        whz_category=whz_category(whz) if whz is not None else None,
        flags=tuple(flags),
    )


def _whz(*, sex: str, age_days: int, weight_kg: float, length_cm: float) -> float | None:
    """Weight-for-length before 731 days, weight-for-height from 731 days; None outside the
    table's lengths (anthro, R/z-score-weight-for-lenhei.R)."""
    indicator, (low, high) = (("wfl", WFL_RANGE) if age_days < HEIGHT_FROM_DAY
                              else ("wfh", WFH_RANGE))
    if not low <= length_cm <= high:
        return None
    return round(by_length(indicator, sex, length_cm).restricted_z(weight_kg), 2)


def _plausible(z: float | None, flag: GrowthFlag, flags: list[GrowthFlag]) -> float | None:
    """Z, or None with FLAG added to FLAGS when WHO anthro flags it as implausible."""
    if z is None:
        return None
    low, high = PLAUSIBLE[flag]
    if low <= z <= high:
        return z
    flags.append(flag)
    return None


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
