"""Known answers published by WHO: the expanded tables' SD lines, and igrowup's own results."""

import json
from pathlib import Path

import pytest

from api.children import growth
from api.children.growth import Position

REFERENCE = json.loads((Path(__file__).parent / "data" / "who_reference.json").read_text())
SD_COLUMNS = {"SD3neg": -3, "SD2neg": -2, "SD0": 0, "SD2": 2, "SD3": 3}


def _sd_cases():
    for table, rows in REFERENCE["sd_lines"].items():
        indicator, sex = table.split("_")
        for row in rows:
            index = row.get("day", row.get("length", row.get("height")))
            if indicator in ("lhfa", "wfa") and index > growth.LAST_DAY:
                continue  # WHO's tables run to 1856 days; Lindung assesses 0-60 months
            for column, z in SD_COLUMNS.items():
                yield pytest.param(indicator, "male" if sex == "boys" else "female", index,
                                   row[column], z, id=f"{table}-{index}-{column}")


@pytest.mark.parametrize(("indicator", "sex", "index", "value", "z"), list(_sd_cases()))
def test_value_on_a_published_sd_line_gives_that_z(indicator, sex, index, value, z):
    if indicator in ("lhfa", "wfa"):
        lms = growth.by_age(indicator, sex, index)
    else:
        lms = growth.by_length(indicator, sex, index)
    got = lms.z(value) if indicator == "lhfa" else lms.restricted_z(value)
    assert round(got, 2) == z


UNDER_FIVE = [e for e in REFERENCE["igrowup_examples"] if e["age_days"] <= growth.LAST_DAY]
BEYOND = [e for e in REFERENCE["igrowup_examples"] if e["age_days"] > growth.LAST_DAY]
# WHO anthro's own tests: a boy of 987 days, 72.86 cm lying (zlen -6.09, a WHO flag) and a
# girl of 1522 days weighing 17 kg (zwei 0.24)
WHO_ANTHRO = [("male", 987, 12.0, 72.86, Position.LYING, "haz", -6.09),
              ("female", 1522, 17.0, 104.0, Position.STANDING, "waz", 0.24)]
EXAMPLES = UNDER_FIVE


@pytest.mark.parametrize("example", EXAMPLES,
                         ids=[f"{e['sex']}-{e['age_days']}d-{e['measure']}" for e in EXAMPLES])
def test_igrowup_survey_example(example):
    result = growth.assess(sex=example["sex"], age_days=example["age_days"],
                           weight_kg=example["weight_kg"], length_cm=example["length_cm"],
                           position=Position(example["measure"]))
    expected = example["expected"]
    assert (result.haz, result.waz, result.whz) == (expected["haz"], expected["waz"],
                                                    expected["whz"])


@pytest.mark.parametrize("example", BEYOND, ids=[f"{e['age_days']}d" for e in BEYOND])
def test_igrowup_children_past_60_months_are_refused(example):
    with pytest.raises(growth.ImplausibleMeasurement) as refused:
        growth.assess(sex=example["sex"], age_days=example["age_days"],
                      weight_kg=example["weight_kg"], length_cm=example["length_cm"],
                      position=Position(example["measure"]))
    assert refused.value.field == "measured_on"


def test_who_anthro_examples():
    sex, day, weight, length, position, _, zlen = WHO_ANTHRO[0]
    assert round(growth.by_age("lhfa", sex, day).z(
        growth.standard_length(day, length, position)), 2) == zlen
    flagged = growth.assess(sex=sex, age_days=day, weight_kg=weight, length_cm=length,
                            position=position)
    assert flagged.haz is None  # |haz| > 6 is a WHO flag: the z is withheld, not refused
    assert flagged.flags == (growth.GrowthFlag.HAZ_IMPLAUSIBLE,)
    assert flagged.waz is not None
    sex, day, weight, length, position, _, zwei = WHO_ANTHRO[1]
    assert growth.assess(sex=sex, age_days=day, weight_kg=weight, length_cm=length,
                         position=position).waz == zwei


# WHO anthro 1.1.0's answers for three children (anthro_zscores: z to 2 decimals, f = 1 when
# flagged; a flagged z is withheld here)
ANTHRO_1_1_0 = [
    pytest.param("female", 91, 5.8, 58.5, Position.STANDING,
                 {"haz": -0.61, "whz": 0.61}, ("standing_under_9_months",),
                 id="girl-91d-standing-not-converted"),
    pytest.param("male", 400, 14.5, 72.0, Position.LYING,
                 {"haz": -2.09, "whz": None}, ("whz_implausible",),  # zwfl 6.07, fwfl 1
                 id="boy-400d-whz-flagged"),
    pytest.param("male", 1826, 20.0, 131.0, Position.STANDING,
                 {"haz": 4.54}, (), id="boy-1826d-131cm"),
]


@pytest.mark.parametrize(("sex", "day", "weight", "length", "position", "expected", "flags"),
                         ANTHRO_1_1_0)
def test_who_anthro_1_1_0_answers(sex, day, weight, length, position, expected, flags):
    result = growth.assess(sex=sex, age_days=day, weight_kg=weight, length_cm=length,
                           position=position)
    assert {name: getattr(result, name) for name in expected} == expected
    assert result.flags == flags


def test_the_examples_cover_both_sexes_positions_and_tails():
    assert len(EXAMPLES) + len(WHO_ANTHRO) + 1 >= 30  # + the girl of 365 days, 64 cm
    assert {e["sex"] for e in EXAMPLES} == {"male", "female"}
    assert {e["measure"] for e in EXAMPLES} == {"lying", "standing"}
    assert min(e["age_days"] for e in EXAMPLES) == 0
    assert max(e["age_days"] for e in EXAMPLES) > 1700
    assert any(abs(v) > 3 for e in EXAMPLES for v in e["expected"].values() if v is not None)
