"""POST /measurements, GET /children/{id}, automatic stunting screening and 2T."""

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.cases.models import Case
from api.children.models import Measurement
from api.regions import calendar
from tests.conftest import BALIKPAPAN, BANJARMASIN, LAMARU, MANGGAR

TODAY = calendar.today_in(MANGGAR)  # the kelurahan's calendar, not the UTC date
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
                         "waz_category", "whz_category", "flags", "case_id", "created_at"}
    assert body["flags"] == []
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
    ({"height_cm": 34.9}, "height_cm"),  # no child of 0-60 months measures this
    ({"height_cm": 140.1}, "height_cm"),
    ({"weight_kg": 0.4}, "weight_kg"),
    ({"weight_kg": 40.1}, "weight_kg"),
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


def _child_born(days_ago, sex, name="Anak Uji"):
    return {"name": name, "sex": sex, "birth_date": (TODAY - timedelta(days=days_ago)).isoformat(),
            "village_code": MANGGAR}


def test_a_standing_child_under_9_months_is_not_converted(client, cadre):
    """WHO anthro 1.1.0: no +0.7 cm for a height taken standing before 9 months; flagged."""
    response = client.post("/api/v1/measurements", headers=cadre.headers, json=_entry(
        child=_child_born(91, "female"), weight_kg=5.8, height_cm=58.5, position="standing"))
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["age_days"], body["haz"], body["whz"]) == (91, -0.61, 0.61)
    assert body["flags"] == ["standing_under_9_months"]
    assert body["height_cm"] == 58.5  # the height as measured
    assert body["case_id"] is None


def test_an_implausible_whz_is_null_and_flagged_while_haz_opens_the_case(client, session, cadre):
    """WHO flags whz 6.07 and keeps haz -2.09: the weighing is stored, not refused, and the
    stunted haz opens the stunting-risk case."""
    response = client.post("/api/v1/measurements", headers=cadre.headers, json=_entry(
        child=_child_born(400, "male"), weight_kg=14.5, height_cm=72.0, position="lying"))
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["whz"], body["whz_category"]) == (None, None)
    assert body["flags"] == ["whz_implausible"]
    assert (body["haz"], body["haz_category"]) == (-2.09, "stunted")
    assert body["waz"] is not None and body["waz_category"] is not None
    assert body["case_id"]
    case = session.get(Case, uuid.UUID(body["case_id"]))
    assert case.category.value == "stunting_risk"
    stored = session.get(Measurement, uuid.UUID(body["id"]))
    assert (stored.whz, stored.flags, stored.haz) == (None, ["whz_implausible"], -2.09)
    seen = client.get(f"/api/v1/children/{body['child_id']}", headers=cadre.headers).json
    assert seen["latest_measurement"]["flags"] == ["whz_implausible"]


def test_a_flagged_haz_opens_no_case(client, session, cadre):
    """A haz WHO flags (|haz| > 6) is no screening result: null, and no case is opened."""
    response = client.post("/api/v1/measurements", headers=cadre.headers, json=_entry(
        child=_child_born(365, "male"), weight_kg=9.6, height_cm=40.0, position="lying"))
    assert response.status_code == 201, response.json
    assert (response.json["haz"], response.json["haz_category"]) == (None, None)
    assert response.json["flags"] == ["haz_implausible"]
    assert response.json["case_id"] is None
    assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_a_height_above_130_cm_is_scored(client, cadre):
    """A boy of 1826 days (the last day under 60 months), 131 cm standing: haz 4.54."""
    response = client.post("/api/v1/measurements", headers=cadre.headers, json=_entry(
        child=_child_born(1826, "male"), weight_kg=20.0, height_cm=131.0, position="standing"))
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["haz"], body["haz_category"]) == (4.54, "tall")
    assert body["whz"] is None and body["flags"] == []


def test_an_impossible_height_is_refused_naming_the_field(client, session, cadre):
    response = client.post("/api/v1/measurements", headers=cadre.headers,
                           json=_entry(height_cm=175.0))
    assert response.status_code == 422, response.json
    assert response.json["errors"]["height_cm"] == [
        "A child of 0-60 months measures between 35 and 140 cm."]
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


UNSEEN_NIK = "6471015505240007"


@pytest.fixture
def unseen(client, make_user):
    """A child reported to the office, never weighed: no cadre may read it."""
    staff = make_user("caseworker", [BALIKPAPAN])
    case = client.post("/api/v1/cases", headers=staff.headers, json={
        "category": "violence", "violence_types": ["sexual"], "village_code": MANGGAR,
        "source": "hotline", "child": {"name": "Rahasia Putri", "sex": "female",
                                       "birth_date": "2024-05-15", "nik": UNSEEN_NIK,
                                       "school": "PAUD", "disability": "none"}}).json
    return {"url": f"/api/v1/children/{case['child']['id']}", "id": case["child"]["id"],
            "staff": staff}


def test_a_nik_on_file_elsewhere_answers_as_an_unused_one(client, cadre, unseen):
    assert client.get(unseen["url"], headers=cadre.headers).status_code == 404
    unused = client.post("/api/v1/measurements", headers=cadre.headers, json=_entry(
        child={"name": "x", "sex": "male", "birth_date": "2025-01-01",
               "village_code": MANGGAR, "nik": "6471010101250001"}))
    other_birth = client.post("/api/v1/measurements", headers=cadre.headers, json=_entry(
        child={"name": "x", "sex": "male", "birth_date": "2025-01-01",
               "village_code": MANGGAR, "nik": UNSEEN_NIK}))
    assert other_birth.status_code == unused.status_code == 201, other_birth.json
    assert "Rahasia" not in other_birth.get_data(as_text=True)


def test_a_nik_read_off_a_card_never_opens_another_record(client, cadre, unseen):
    weighed = client.post("/api/v1/measurements", headers=cadre.headers, json=_entry(
        child={"name": "Putri Timbang", "sex": "female", "birth_date": "2024-05-15",
               "village_code": MANGGAR, "nik": UNSEEN_NIK}, weight_kg=10.5, height_cm=82.0))
    assert weighed.status_code == 201, weighed.json
    assert weighed.json["child_id"] != unseen["id"]
    assert client.get(unseen["url"], headers=cadre.headers).status_code == 404
    seen = client.get(f"/api/v1/children/{weighed.json['child_id']}",
                      headers=cadre.headers).json
    assert seen["name"] == "Putri Timbang" and "Rahasia" not in json.dumps(seen)
    assert {"nik", "school", "disability", "cases", "possible_matches"}.isdisjoint(seen)
    # the caseworker sees both records side by side, to reconcile them
    matches = client.get(unseen["url"], headers=unseen["staff"].headers).json[
        "possible_matches"]
    assert matches == [{"id": weighed.json["child_id"], "name": "Putri Timbang",
                        "reason": "same_nik"}]


def test_a_cadre_cannot_weigh_by_id_a_child_never_weighed(client, make_user, cadre):
    staff = make_user("caseworker", [BALIKPAPAN])
    reported = client.post("/api/v1/cases", headers=staff.headers, json={
        "category": "violence", "violence_types": ["neglect"], "village_code": MANGGAR,
        "source": "hotline", "child": {"name": "Rahasia Dua", "sex": "male",
                                       "birth_date": "2024-02-01"}}).json
    refused = client.post("/api/v1/measurements", headers=cadre.headers, json={
        **_without_child(_entry()), "child_id": reported["child"]["id"]})
    assert refused.status_code == 422 and "child_id" in refused.json["errors"]
    described = client.post("/api/v1/measurements", headers=cadre.headers, json=_entry(
        child={"name": "Rahasia Dua", "sex": "male", "birth_date": "2024-02-01",
               "village_code": MANGGAR}, weight_kg=11.0, height_cm=84.0))
    assert described.json["child_id"] != reported["child"]["id"]


def test_a_nik_the_cadre_can_read_with_another_birth_date_is_refused(client, cadre):
    nik = "6471015505240009"
    child = {"name": "Putri", "sex": "female", "birth_date": BIRTH.isoformat(),
             "village_code": MANGGAR, "nik": nik}
    assert client.post("/api/v1/measurements", json=_entry(child=child),
                       headers=cadre.headers).status_code == 201
    wrong = client.post("/api/v1/measurements", headers=cadre.headers, json=_entry(
        child={**child, "birth_date": (BIRTH - timedelta(days=40)).isoformat()}))
    assert wrong.status_code == 422 and "child.nik" in wrong.json["errors"]


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
