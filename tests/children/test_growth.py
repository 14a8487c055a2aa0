"""WHO Child Growth Standards z-scores and Permenkes 2/2020 categories (children/growth.py)."""

import pytest

from api.children import growth
from api.children.growth import (
    HazCategory,
    ImplausibleMeasurement,
    Position,
    WazCategory,
    WhzCategory,
    assess,
)

LYING, STANDING = Position.LYING, Position.STANDING


def test_girl_of_365_days_64_cm_lying_is_severely_stunted():
    result = assess(sex="female", age_days=365, weight_kg=7.0, length_cm=64.0, position=LYING)
    assert result.haz == -3.89
    assert result.haz_category is HazCategory.SEVERELY_STUNTED


# (sex, age_days, weight_kg, length_cm, position) → (haz, waz, whz), computed by hand from
# WHO's published L, M, S of that day / length (WHO 2006 expanded tables)
HAND_COMPUTED = [
    # at the median of every table the z-score is 0
    ("male", 0, 3.3464, 49.8842, LYING, 0.0, 0.0, None),
    ("female", 0, 3.2322, 49.1477, LYING, 0.0, 0.0, None),
    # boys, 1 year: M(lhfa) 75.7391, S 0.03137; z = (X/M - 1)/S
    ("male", 365, 9.6479, 75.7391, LYING, 0.0, 0.0, None),
    ("male", 365, 9.6479, 75.7391 * (1 - 2 * 0.03137), LYING, -2.0, 0.0, None),
]


@pytest.mark.parametrize(("sex", "day", "weight", "length", "position", "haz", "waz", "whz"),
                         HAND_COMPUTED)
def test_hand_computed_values(sex, day, weight, length, position, haz, waz, whz):
    result = assess(sex=sex, age_days=day, weight_kg=weight, length_cm=length,
                    position=position)
    assert result.haz == pytest.approx(haz, abs=0.005)
    assert result.waz == pytest.approx(waz, abs=0.005)
    if whz is not None:
        assert result.whz == pytest.approx(whz, abs=0.005)


@pytest.mark.parametrize("sex", ["male", "female"])
@pytest.mark.parametrize("indicator", ["lhfa", "wfa"])
def test_measurement_at_each_sd_line_gives_that_z_for_every_day(sex, indicator):
    """WHO's expanded tables list the value at z = -3 … +3 for each day; such a value must
    give that z exactly (to 2 decimals). Checked for all 1827 days."""
    for day in range(growth.LAST_DAY + 1):
        lms = growth.by_age(indicator, sex, day)
        for z in (-3, -2, -1, 0, 1, 2, 3):
            value = round(lms.at(z), 4)  # as printed in the tables
            got = lms.z(value) if indicator == "lhfa" else lms.restricted_z(value)
            assert round(got, 2) == z, (indicator, sex, day, z)


@pytest.mark.parametrize("sex", ["male", "female"])
@pytest.mark.parametrize(("indicator", "low", "high"), [("wfl", 45.0, 110.0),
                                                        ("wfh", 65.0, 120.0)])
def test_weight_at_each_sd_line_gives_that_z_for_every_length(sex, indicator, low, high):
    tenths = range(round(low * 10), round(high * 10) + 1)
    for tenth in tenths:
        lms = growth.by_length(indicator, sex, tenth / 10)
        for z in (-3, -2, -1, 0, 1, 2, 3):
            assert round(lms.restricted_z(round(lms.at(z), 4)), 2) == z


def test_weight_beyond_three_sd_uses_the_restricted_z():
    lms = growth.by_age("wfa", "male", 365)
    sd2, sd3 = lms.at(2), lms.at(3)
    heavy = sd3 + 1.5 * (sd3 - sd2)  # 1.5 SD2-SD3 steps above +3 SD
    assert lms.restricted_z(heavy) == pytest.approx(4.5)
    assert lms.z(heavy) != pytest.approx(4.5, abs=0.05)  # the plain LMS z differs
    sd2neg, sd3neg = lms.at(-2), lms.at(-3)
    light = sd3neg - 0.5 * (sd2neg - sd3neg)
    assert lms.restricted_z(light) == pytest.approx(-3.5)


def test_length_for_age_is_not_restricted():
    lms = growth.by_age("lhfa", "female", 365)
    short = lms.at(-4)
    assert lms.z(short) == pytest.approx(-4)
    result = assess(sex="female", age_days=365, weight_kg=7.0, length_cm=short, position=LYING)
    assert result.haz == -4.0


def test_standing_under_two_years_adds_0_7_cm():
    lying = assess(sex="male", age_days=600, weight_kg=10.0, length_cm=80.7, position=LYING)
    standing = assess(sex="male", age_days=600, weight_kg=10.0, length_cm=80.0,
                      position=STANDING)
    assert (standing.haz, standing.whz) == (lying.haz, lying.whz)
    assert standing.length_cm == pytest.approx(80.7)


def test_lying_from_two_years_subtracts_0_7_cm_also_for_weight_for_height():
    """A child of 24 months or more measured lying: height = length - 0.7, and weight-for-
    height is looked up at that converted height."""
    lying = assess(sex="female", age_days=800, weight_kg=11.0, length_cm=85.7, position=LYING)
    standing = assess(sex="female", age_days=800, weight_kg=11.0, length_cm=85.0,
                      position=STANDING)
    assert (lying.haz, lying.whz) == (standing.haz, standing.whz)
    expected = round(growth.by_length("wfh", "female", 85.0).restricted_z(11.0), 2)
    assert lying.whz == expected


def test_weight_for_length_before_731_days_weight_for_height_from_731():
    before = assess(sex="male", age_days=730, weight_kg=11.0, length_cm=85.0, position=LYING)
    after = assess(sex="male", age_days=731, weight_kg=11.0, length_cm=85.0, position=STANDING)
    assert before.whz == round(growth.by_length("wfl", "male", 85.0).restricted_z(11.0), 2)
    assert after.whz == round(growth.by_length("wfh", "male", 85.0).restricted_z(11.0), 2)
    assert before.whz != after.whz


def test_lengths_between_table_rows_are_interpolated():
    low, high = growth.by_length("wfl", "female", 70.1), growth.by_length("wfl", "female", 70.2)
    mid = growth.by_length("wfl", "female", 70.15)
    assert mid.m == pytest.approx((low.m + high.m) / 2)


def test_outside_weight_for_length_range_gives_no_whz():
    result = assess(sex="male", age_days=0, weight_kg=2.0, length_cm=44.0, position=LYING)
    assert result.whz is None and result.whz_category is None


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"age_days": 1827}, "measured_on"),
    ({"age_days": -1}, "measured_on"),
    ({"length_cm": 40.0}, "height_cm"),  # haz far below -6 at one year
    ({"weight_kg": 2.0}, "weight_kg"),  # waz below -6 at one year
    ({"weight_kg": 25.0}, "weight_kg"),  # waz above 5
])
def test_implausible_measurements_are_refused(kwargs, field):
    values = {"sex": "male", "age_days": 365, "weight_kg": 9.6, "length_cm": 75.7,
              "position": LYING, **kwargs}
    with pytest.raises(ImplausibleMeasurement) as refused:
        assess(**values)
    assert refused.value.field == field


@pytest.mark.parametrize(("z", "category"), [
    (-3.01, HazCategory.SEVERELY_STUNTED), (-3.0, HazCategory.STUNTED),
    (-2.01, HazCategory.STUNTED), (-2.0, HazCategory.NORMAL), (3.0, HazCategory.NORMAL),
    (3.01, HazCategory.TALL)])
def test_haz_categories(z, category):
    assert growth.haz_category(z) is category


@pytest.mark.parametrize(("z", "category"), [
    (-3.5, WazCategory.SEVERELY_UNDERWEIGHT), (-2.5, WazCategory.UNDERWEIGHT),
    (-2.0, WazCategory.NORMAL), (1.0, WazCategory.NORMAL),
    (1.01, WazCategory.RISK_OF_OVERWEIGHT)])
def test_waz_categories(z, category):
    assert growth.waz_category(z) is category


@pytest.mark.parametrize(("z", "category"), [
    (-3.2, WhzCategory.SEVERELY_WASTED), (-2.2, WhzCategory.WASTED), (-2.0, WhzCategory.NORMAL),
    (1.0, WhzCategory.NORMAL), (1.5, WhzCategory.POSSIBLE_RISK_OF_OVERWEIGHT),
    (2.0, WhzCategory.POSSIBLE_RISK_OF_OVERWEIGHT), (2.5, WhzCategory.OVERWEIGHT),
    (3.0, WhzCategory.OVERWEIGHT), (3.1, WhzCategory.OBESE)])
def test_whz_categories(z, category):
    assert growth.whz_category(z) is category
