"""WHO Child Growth Standards z-scores and Permenkes 2/2020 categories (children/growth.py)."""

import pytest

from api.children import growth
from api.children.growth import (
    GrowthFlag,
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
    assert standing.flags == ()


def test_a_standing_child_under_9_months_is_not_converted():
    """WHO anthro 1.1.0: a height taken standing before 9 months is used as measured (no
    +0.7 cm) and the position is flagged (anthro's c9mo_flag)."""
    result = assess(sex="female", age_days=91, weight_kg=5.8, length_cm=58.5,
                    position=STANDING)
    assert result.length_cm == 58.5
    assert (result.haz, result.whz) == (-0.61, 0.61)
    assert result.flags == (GrowthFlag.STANDING_UNDER_9_MONTHS,)
    lying = assess(sex="female", age_days=91, weight_kg=5.8, length_cm=58.5, position=LYING)
    assert (result.haz, result.waz, result.whz) == (lying.haz, lying.waz, lying.whz)
    assert lying.flags == ()


@pytest.mark.parametrize(("day", "converted"), [(272, False), (273, False), (274, True),
                                                (275, True)])
def test_9_months_is_age_in_days_over_30_4375_so_day_273_is_the_last_under_9(day, converted):
    """anthro's rule is age_in_months < 9 with months = days / 30.4375: 273 days are 8.97
    months, 274 days 9.002."""
    result = assess(sex="female", age_days=day, weight_kg=7.5, length_cm=66.0,
                    position=STANDING)
    assert result.length_cm == pytest.approx(66.7 if converted else 66.0)
    assert (GrowthFlag.STANDING_UNDER_9_MONTHS in result.flags) is not converted


def test_lying_under_9_months_is_never_flagged():
    result = assess(sex="male", age_days=100, weight_kg=6.0, length_cm=60.0, position=LYING)
    assert result.flags == ()


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


@pytest.mark.parametrize("age_days", [1827, -1])
def test_children_outside_0_to_60_months_are_refused(age_days):
    with pytest.raises(ImplausibleMeasurement) as refused:
        assess(sex="male", age_days=age_days, weight_kg=9.6, length_cm=75.7, position=LYING)
    assert refused.value.field == "measured_on"


def test_one_implausible_z_is_null_and_flagged_while_the_others_stand():
    """WHO flags whz 6.07 (|whz| > 5); haz -2.09 and waz stand, and haz is still stunted."""
    result = assess(sex="male", age_days=400, weight_kg=14.5, length_cm=72.0, position=LYING)
    assert (result.whz, result.whz_category) == (None, None)
    assert result.flags == (GrowthFlag.WHZ_IMPLAUSIBLE,)
    assert (result.haz, result.haz_category) == (-2.09, HazCategory.STUNTED)
    assert (result.waz, result.waz_category) == (3.56, WazCategory.RISK_OF_OVERWEIGHT)


@pytest.mark.parametrize(("kwargs", "flags", "standing"), [
    ({"length_cm": 40.0}, {GrowthFlag.HAZ_IMPLAUSIBLE}, {"waz"}),  # haz far below -6
    ({"weight_kg": 2.0}, {GrowthFlag.WAZ_IMPLAUSIBLE, GrowthFlag.WHZ_IMPLAUSIBLE}, {"haz"}),
    ({"weight_kg": 25.0}, {GrowthFlag.WAZ_IMPLAUSIBLE, GrowthFlag.WHZ_IMPLAUSIBLE}, {"haz"}),
])
def test_implausible_z_scores_are_null_with_their_category(kwargs, flags, standing):
    values = {"sex": "male", "age_days": 365, "weight_kg": 9.6, "length_cm": 75.7,
              "position": LYING, **kwargs}
    result = assess(**values)
    assert set(result.flags) == flags
    for name in ("haz", "waz", "whz"):
        present = getattr(result, name) is not None
        assert present is (name in standing), name
        assert (getattr(result, f"{name}_category") is not None) is present, name


@pytest.mark.parametrize(("z", "flagged"), [(5.0, False), (5.01, True), (-6.0, False),
                                            (-6.01, True)])
def test_waz_is_flagged_below_minus_6_or_above_5(z, flagged):
    lms = growth.by_age("wfa", "male", 365)
    sd2, sd3 = (lms.at(2), lms.at(3)) if z > 0 else (lms.at(-2), lms.at(-3))
    weight = sd3 + (abs(z) - 3) * (sd3 - sd2)  # the restricted z is linear beyond 3 SD
    result = assess(sex="male", age_days=365, weight_kg=weight, length_cm=75.7, position=LYING)
    assert (GrowthFlag.WAZ_IMPLAUSIBLE in result.flags) is flagged
    assert result.waz == (None if flagged else z)


@pytest.mark.parametrize(("z", "flagged"), [(6.0, False), (6.01, True), (-6.0, False),
                                            (-6.01, True)])
def test_haz_is_flagged_beyond_6_either_way(z, flagged):
    length = growth.by_age("lhfa", "female", 500).at(z)
    result = assess(sex="female", age_days=500, weight_kg=10.0, length_cm=length,
                    position=LYING)
    assert (GrowthFlag.HAZ_IMPLAUSIBLE in result.flags) is flagged
    assert result.haz == (None if flagged else z)


def test_a_height_above_130_cm_is_scored():
    """WHO scores haz for any height; a boy of 1826 days, 131 cm standing: haz 4.54 (tall,
    not flagged), no whz above 120 cm."""
    result = assess(sex="male", age_days=1826, weight_kg=20.0, length_cm=131.0,
                    position=STANDING)
    assert (result.haz, result.haz_category) == (4.54, HazCategory.TALL)
    assert result.whz is None and result.flags == ()


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
