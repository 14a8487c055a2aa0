"""Bad reports are refused with a 422 naming each bad field, and nothing is stored."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from api.cases.models import Case
from api.children.models import Child
from api.regions import calendar
from tests.conftest import BALIKPAPAN, MANGGAR, child_report

# the kelurahan's calendar (WITA), not the server's UTC date
TODAY = calendar.today_in(MANGGAR)
TOMORROW = (TODAY + timedelta(days=1)).isoformat()
NINETEEN_YEARS_AGO = date(TODAY.year - 19, 1, 1).isoformat()


@pytest.fixture
def rt_head(make_user):
    return make_user("rt_head", [MANGGAR])


def _child(**overrides):
    child = {"name": "Budi Santoso", "sex": "male", "birth_date": "2017-05-04"}
    child.update(overrides)
    return {k: v for k, v in child.items() if v is not None}


BAD_REPORTS = [
    ("unknown top-level field", {"priority": "urgent"}, "priority"),
    ("unknown child field", {"child": _child(religion="x")}, "child.religion"),
    ("unknown household field", {"household": {"income": 5}}, "household.income"),
    ("unknown category", {"category": "theft"}, "category"),
    ("unknown violence type", {"violence_types": ["verbal"]}, "violence_types.0"),
    ("violence without a form", {"violence_types": []}, "violence_types"),
    ("repeated violence type", {"violence_types": ["physical", "physical"]}, "violence_types"),
    ("incident in the future", {"incident_date": TOMORROW}, "incident_date"),
    ("birth in the future", {"child": _child(birth_date=TOMORROW)}, "child.birth_date"),
    ("adult", {"child": _child(birth_date=NINETEEN_YEARS_AGO)}, "child.birth_date"),
    ("age 18 in months", {"child": _child(birth_date=None, age_months=216)}, "child.age_months"),
    ("no age at all", {"child": _child(birth_date=None)}, "child.birth_date"),
    ("both ages", {"child": _child(age_months=30)}, "child.birth_date"),
    ("NIK of 15 digits", {"child": _child(nik="647101040517000")}, "child.nik"),
    ("NIK with letters", {"child": _child(nik="64710104051700AB")}, "child.nik"),
    ("NIK with month 13", {"child": _child(nik="6471010413170001")}, "child.nik"),
    ("KK of 17 digits", {"household": {"kk_number": "64710101234567890"}},
     "household.kk_number"),
    ("welfare decile 11", {"household": {"welfare_decile": 11}}, "household.welfare_decile"),
    ("unknown stressor", {"household": {"economic_stressors": ["gambling"]}},
     "household.economic_stressors.0"),
    ("village code too short", {"village_code": "647101"}, "village_code"),
    ("village code unknown", {"village_code": "6471019999"}, "village_code"),
    ("RT not a number", {"rt": "tujuh"}, "rt"),
    ("child missing", {"child": None}, "child"),
    ("reporter sets source", {"source": "hotline"}, "source"),
    ("unknown child_id", {"child": None,
                          "child_id": "00000000-0000-0000-0000-000000000000"}, "child_id"),
]


@pytest.mark.parametrize(("case", "overrides", "field"), BAD_REPORTS,
                         ids=[c[0] for c in BAD_REPORTS])
def test_bad_report_names_the_field_and_stores_nothing(client, session, rt_head, case,
                                                       overrides, field):
    body = {k: v for k, v in child_report(**overrides).items() if v is not None}
    response = client.post("/api/v1/cases", json=body, headers=rt_head.headers)
    assert response.status_code == 422, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in response.json["errors"], response.json["errors"]
    assert response.json["type"] == "urn:lindung:problem:validation-error"
    assert session.scalar(select(func.count()).select_from(Case)) == 0
    assert session.scalar(select(func.count()).select_from(Child)) == 0


def test_every_bad_field_is_named_at_once(client, rt_head):
    body = child_report(category="theft", incident_date=TOMORROW, rt="x",
                        child=_child(nik="123"))
    errors = client.post("/api/v1/cases", json=body, headers=rt_head.headers).json["errors"]
    assert {"category", "incident_date", "rt", "child.nik"} <= set(errors)


def test_body_that_is_not_json_is_refused(client, rt_head):
    response = client.post("/api/v1/cases", data="not json", headers={
        **rt_head.headers, "Content-Type": "application/json"})
    assert response.status_code in (400, 422)
    assert response.headers["Content-Type"] == "application/problem+json"


def test_caseworker_must_say_how_the_report_came_in(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    response = client.post("/api/v1/cases", json=child_report(), headers=staff.headers)
    assert response.status_code == 422
    assert "source" in response.json["errors"]
    response = client.post("/api/v1/cases", json=child_report(source="community"),
                           headers=staff.headers)
    assert "source" in response.json["errors"]


def test_stunting_report_has_no_violence_types(client, rt_head):
    body = child_report(category="stunting_risk", violence_types=["physical"])
    response = client.post("/api/v1/cases", json=body, headers=rt_head.headers)
    assert "violence_types" in response.json["errors"]


def test_age_in_months_is_accepted_and_marked_estimated(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    body = child_report(source="walk_in", child={"name": "Rina", "sex": "female",
                                                  "age_months": 30})
    case = client.post("/api/v1/cases", json=body, headers=staff.headers).json
    assert case["child"]["age_months"] == 30
    assert case["child"]["birth_date_estimated"] is True


def test_valid_nik_of_a_girl_is_accepted(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    # born 04-05-2017, girl: day + 40 = 44
    body = child_report(source="walk_in", child=_child(nik="6471014405170003", sex="female"))
    response = client.post("/api/v1/cases", json=body, headers=staff.headers)
    assert response.status_code == 201, response.json
    assert response.json["child"]["nik"] == "6471014405170003"


def test_correction_is_validated_too(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    case = client.post("/api/v1/cases", json=child_report(source="walk_in"),
                       headers=staff.headers)
    etag = case.headers["ETag"] if "ETag" in case.headers else client.get(
        f"/api/v1/cases/{case.json['id']}", headers=staff.headers).headers["ETag"]
    response = client.patch(f"/api/v1/cases/{case.json['id']}",
                            json={"status": "closed", "child": {"birth_date": str(
                                calendar.today_anywhere() + timedelta(days=1))}},
                            headers={**staff.headers, "If-Match": etag})
    assert response.status_code == 422
    assert {"status", "child.birth_date"} <= set(response.json["errors"])
