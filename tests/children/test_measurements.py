"""POST /measurements, GET /children/{id}, automatic stunting screening and 2T."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from api.cases.models import Case
from api.children.models import Measurement
from tests.conftest import BALIKPAPAN, BANJARMASIN, LAMARU, MANGGAR

TODAY = date.today()
BIRTH = TODAY - timedelta(days=365)


def _entry(**overrides):
    entry = {
        "child": {"name": "Putri Ayu", "sex": "female", "birth_date": BIRTH.isoformat(),
                  "village_code": MANGGAR, "rt": "3", "rw": "1"},
        "measured_on": TODAY.isoformat(),
        "weight_kg": 8.9,
        "height_cm": 74.0,
        "position": "lying",
    }
    entry.update(overrides)
    return entry


@pytest.fixture
def cadre(make_user):
    return make_user("posyandu_cadre", [MANGGAR])


def test_cadre_records_a_measurement_and_gets_z_scores(client, cadre):
    response = client.post("/api/v1/measurements", json=_entry(muac_cm=14.2),
                           headers=cadre.headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["age_days"] == 365
    assert body["haz"] == -0.0 or body["haz"] == 0.0
    assert body["haz_category"] == "normal"
    assert set(body) == {"id", "child_id", "measured_on", "age_days", "weight_kg", "height_cm",
                         "position", "muac_cm", "haz", "waz", "whz", "haz_category",
                         "waz_category", "whz_category", "case_id", "created_at"}
    assert body["case_id"] is None


def test_stunted_child_gets_a_case_once(client, session, cadre, make_user):
    first = client.post("/api/v1/measurements", headers=cadre.headers,
                        json=_entry(height_cm=64.0, weight_kg=7.0))
    assert first.json["haz"] == -3.89
    assert first.json["haz_category"] == "severely_stunted"
    assert first.json["case_id"]
    again = client.post("/api/v1/measurements", headers=cadre.headers, json={
        **_without_child(_entry(height_cm=64.2, weight_kg=7.1)),
        "child_id": first.json["child_id"]})
    assert again.status_code == 201, again.json
    assert again.json["case_id"] == first.json["case_id"]
    cases = session.scalars(select(Case)).all()
    assert len(cases) == 1
    case = cases[0]
    assert (case.category.value, case.source.value, case.reporter_id) == (
        "stunting_risk", "posyandu", cadre.id)
    staff = make_user("caseworker", [BALIKPAPAN])
    plan = client.get(f"/api/v1/cases/{case.id}/routing-plan", headers=staff.headers).json
    assert [p["agency"] for p in plan][:1] == ["DINKES"]


def _without_child(entry):
    return {k: v for k, v in entry.items() if k != "child"}


def test_two_monthly_weighings_without_gain_open_a_case(client, cadre):
    start = TODAY - timedelta(days=60)
    first = client.post("/api/v1/measurements", headers=cadre.headers, json=_entry(
        measured_on=start.isoformat(), weight_kg=8.6, height_cm=72.5)).json
    assert first["case_id"] is None
    child = first["child_id"]
    second = client.post("/api/v1/measurements", headers=cadre.headers, json={
        **_without_child(_entry(measured_on=(start + timedelta(days=30)).isoformat(),
                                weight_kg=8.6, height_cm=73.0)), "child_id": child}).json
    assert second["case_id"] is None  # one month without gain is not yet 2T
    third = client.post("/api/v1/measurements", headers=cadre.headers, json={
        **_without_child(_entry(weight_kg=8.5, height_cm=73.6)), "child_id": child}).json
    assert third["haz"] > -2
    assert third["case_id"]


def test_gain_in_between_is_not_2t(client, cadre):
    start = TODAY - timedelta(days=60)
    child = client.post("/api/v1/measurements", headers=cadre.headers, json=_entry(
        measured_on=start.isoformat(), weight_kg=8.6, height_cm=72.5)).json["child_id"]
    for days, weight in ((30, 8.8), (60, 8.7)):
        response = client.post("/api/v1/measurements", headers=cadre.headers, json={
            **_without_child(_entry(measured_on=(start + timedelta(days=days)).isoformat(),
                                    weight_kg=weight, height_cm=73.0)), "child_id": child})
        assert response.json["case_id"] is None


def test_a_closed_case_is_not_reused(client, session, cadre):
    first = client.post("/api/v1/measurements", headers=cadre.headers,
                        json=_entry(height_cm=64.0, weight_kg=7.0)).json
    case = session.get(Case, __import__("uuid").UUID(first["case_id"]))
    case.status = case.status.CLOSED
    session.commit()
    again = client.post("/api/v1/measurements", headers=cadre.headers, json={
        **_without_child(_entry(height_cm=64.1, weight_kg=7.0)), "child_id": first["child_id"]})
    assert again.json["case_id"] not in (None, first["case_id"])


@pytest.mark.parametrize(("overrides", "field"), [
    ({"child": {"name": "Old", "sex": "male", "birth_date": "2019-01-01",
                "village_code": MANGGAR}}, "measured_on"),
    ({"height_cm": 45.0}, "height_cm"),
    ({"weight_kg": 3.0}, "weight_kg"),
    ({"weight_kg": "8.9"}, "weight_kg"),
    ({"position": "sitting"}, "position"),
    ({"measured_on": (TODAY + timedelta(days=1)).isoformat()}, "measured_on"),
    ({"child": {"name": "X", "sex": "male", "birth_date": BIRTH.isoformat(),
                "village_code": "6371011099"}}, "child.village_code"),
    ({"unexpected": 1}, "unexpected"),
])
def test_refused_measurements_store_nothing(client, session, cadre, overrides, field):
    response = client.post("/api/v1/measurements", json=_entry(**overrides),
                           headers=cadre.headers)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert session.scalar(select(func.count()).select_from(Measurement)) == 0


def test_cadre_weighs_in_own_area_only(client, session, cadre):
    elsewhere = _entry(child={"name": "X", "sex": "male", "birth_date": BIRTH.isoformat(),
                              "village_code": "6371011001"})
    response = client.post("/api/v1/measurements", json=elsewhere, headers=cadre.headers)
    assert response.status_code == 403, response.json
    assert session.scalar(select(func.count()).select_from(Measurement)) == 0


@pytest.mark.parametrize("role", ["rt_head", "teacher", "analyst", "admin"])
def test_only_cadres_and_caseworkers_measure(client, make_user, role):
    caller = make_user(role, [MANGGAR] if role != "admin" else [])
    assert client.post("/api/v1/measurements", json=_entry(),
                       headers=caller.headers).status_code == 403


def test_child_is_read_in_own_area_only(client, cadre, make_user):
    measured = client.post("/api/v1/measurements", json=_entry(height_cm=64.0, weight_kg=7.0),
                           headers=cadre.headers).json
    url = f"/api/v1/children/{measured['child_id']}"
    seen = client.get(url, headers=cadre.headers).json
    assert seen["latest_measurement"]["id"] == measured["id"]
    assert "cases" not in seen
    staff = make_user("caseworker", [BALIKPAPAN])
    assert [c["id"] for c in client.get(url, headers=staff.headers).json["cases"]] == [
        measured["case_id"]]
    for outsider in (make_user("posyandu_cadre", [LAMARU]),
                     make_user("caseworker", [BANJARMASIN])):
        assert client.get(url, headers=outsider.headers).status_code == 404
        assert client.get(f"{url}/measurements", headers=outsider.headers).status_code == 404
    listed = client.get(f"{url}/measurements", headers=cadre.headers).json
    assert [m["id"] for m in listed] == [measured["id"]]
    agency = make_user("agency_officer", agency="DINKES")
    assert client.get(url, headers=agency.headers).status_code == 403


def test_agency_sees_the_latest_measurement_of_a_stunting_case(client, cadre, make_user):
    measured = client.post("/api/v1/measurements", json=_entry(height_cm=64.0, weight_kg=7.0),
                           headers=cadre.headers).json
    staff = make_user("caseworker", [BALIKPAPAN])
    url = f"/api/v1/cases/{measured['case_id']}"
    for action, body in (("triage", {"risk_level": "medium"}), ("route", None)):
        etag = client.get(url, headers=staff.headers).headers["ETag"]
        assert client.post(f"{url}/{action}", json=body,
                           headers={**staff.headers, "If-Match": etag}).status_code == 200
    dinkes = make_user("agency_system", agency="DINKES")
    referral = client.get("/api/v1/referrals", headers=dinkes.headers).json[0]
    assert referral["service"] == "nutrition_intervention"
    assert referral["case"]["latest_measurement"]["haz"] == -3.89


def test_known_nik_is_the_same_child(client, cadre):
    nik = "6471015101250002"
    child = {"name": "Putri", "sex": "female", "birth_date": BIRTH.isoformat(),
             "village_code": MANGGAR, "nik": nik}
    first = client.post("/api/v1/measurements", json=_entry(child=child), headers=cadre.headers)
    second = client.post("/api/v1/measurements", json=_entry(child={**child, "name": "P"}),
                         headers=cadre.headers)
    assert first.json["child_id"] == second.json["child_id"]


def test_cadre_reports_about_a_measured_child_by_id(client, cadre, make_user):
    measured = client.post("/api/v1/measurements", json=_entry(), headers=cadre.headers).json
    report = {"category": "violence", "violence_types": ["neglect"], "village_code": MANGGAR,
              "child_id": measured["child_id"]}
    response = client.post("/api/v1/cases", json=report, headers=cadre.headers)
    assert response.status_code == 201, response.json
    staff = make_user("caseworker", [BALIKPAPAN])
    case = client.get(f"/api/v1/cases/{response.json['id']}", headers=staff.headers).json
    assert case["child"]["id"] == measured["child_id"]
    outsider = make_user("posyandu_cadre", [LAMARU])
    refused = client.post("/api/v1/cases", json={**report, "village_code": LAMARU},
                          headers=outsider.headers)
    assert refused.status_code == 422 and "child_id" in refused.json["errors"]


def test_a_nik_never_opens_another_childs_record(client, make_user, cadre):
    staff = make_user("caseworker", [BALIKPAPAN])
    nik = "6471015505240007"
    victim = client.post("/api/v1/cases", headers=staff.headers, json={
        "category": "violence", "violence_types": ["sexual"], "village_code": MANGGAR,
        "source": "hotline", "child": {"name": "Rahasia Putri", "sex": "female",
                                       "birth_date": "2024-05-15", "nik": nik,
                                       "school": "PAUD", "disability": "none"}}).json
    wrong = client.post("/api/v1/measurements", headers=cadre.headers, json=_entry(
        child={"name": "x", "sex": "male", "birth_date": "2025-01-01",
               "village_code": MANGGAR, "nik": nik}))
    assert wrong.status_code == 422 and "child.nik" in wrong.json["errors"]
    assert "Rahasia" not in wrong.get_data(as_text=True)
    child_url = f"/api/v1/children/{victim['child']['id']}"
    assert client.get(child_url, headers=cadre.headers).status_code == 404  # never weighed
    weighed = client.post("/api/v1/measurements", headers=cadre.headers, json=_entry(
        child={"name": "Rahasia Putri", "sex": "female", "birth_date": "2024-05-15",
               "village_code": MANGGAR, "nik": nik}, weight_kg=10.5, height_cm=82.0))
    assert weighed.status_code == 201, weighed.json
    seen = client.get(child_url, headers=cadre.headers).json
    assert {"nik", "school", "disability", "cases"}.isdisjoint(seen)


def test_describing_a_known_child_again_finds_it(client, session, cadre):
    first = client.post("/api/v1/measurements", json=_entry(height_cm=64.0, weight_kg=7.0),
                        headers=cadre.headers).json
    again = client.post("/api/v1/measurements", headers=cadre.headers, json=_entry(
        child={**_entry()["child"], "name": "PUTRI AYU"}, height_cm=64.3, weight_kg=7.1,
        measured_on=(TODAY - timedelta(days=1)).isoformat()))
    assert again.json["child_id"] == first["child_id"]
    assert again.json["case_id"] == first["case_id"]
    assert session.scalar(select(func.count()).select_from(Case)) == 1


def test_2t_counts_a_weighing_entered_late_and_a_same_day_reweighing(client, cadre):
    start = TODAY - timedelta(days=60)
    child = client.post("/api/v1/measurements", headers=cadre.headers, json=_entry(
        measured_on=start.isoformat(), weight_kg=8.8, height_cm=72.5)).json["child_id"]

    def weigh(days, weight):
        return client.post("/api/v1/measurements", headers=cadre.headers, json={
            **_without_child(_entry(measured_on=(start + timedelta(days=days)).isoformat(),
                                    weight_kg=weight, height_cm=73.0)), "child_id": child}).json

    assert weigh(60, 8.6)["case_id"] is None
    assert weigh(30, 9.0)["case_id"] is None  # a gain in between: not 2T
    assert weigh(30, 8.7)["case_id"]  # re-weighed that day: 8.8 → 8.7 → 8.6
