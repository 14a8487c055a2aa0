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
    with pytest.raises(growth.ImplausibleMeasurement):  # |haz| > 6 is a WHO flag
        growth.assess(sex=sex, age_days=day, weight_kg=weight, length_cm=length,
                      position=position)
    sex, day, weight, length, position, _, zwei = WHO_ANTHRO[1]
    assert growth.assess(sex=sex, age_days=day, weight_kg=weight, length_cm=length,
                         position=position).waz == zwei


def test_the_examples_cover_both_sexes_positions_and_tails():
    assert len(EXAMPLES) + len(WHO_ANTHRO) + 1 >= 30  # + the girl of 365 days, 64 cm
    assert {e["sex"] for e in EXAMPLES} == {"male", "female"}
    assert {e["measure"] for e in EXAMPLES} == {"lying", "standing"}
    assert min(e["age_days"] for e in EXAMPLES) == 0
    assert max(e["age_days"] for e in EXAMPLES) > 1700
    assert any(abs(v) > 3 for e in EXAMPLES for v in e["expected"].values() if v is not None)
