"""Possible duplicates are linked on report, never merged (DESIGN §5)."""

from tests.conftest import BALIKPAPAN, LAMARU, child_report

NIK = "6471010405170003"


def _report(client, staff, **overrides):
    response = client.post("/api/v1/cases", json=child_report(source="hotline", **overrides),
                           headers=staff.headers)
    assert response.status_code == 201, response.json
    return response.json


def test_same_nik_links_both_cases_and_reuses_the_child(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    child = {"name": "Budi Santoso", "sex": "male", "birth_date": "2017-05-04", "nik": NIK}
    first = _report(client, staff, child=child)
    second = _report(client, staff, child={**child, "name": "Budi"}, village_code=LAMARU)
    assert second["child"]["id"] == first["child"]["id"]
    assert second["possible_duplicates"] == [
        {"id": first["id"], "reference": first["reference"], "reason": "same_child"}]
    first_again = client.get(f"/api/v1/cases/{first['id']}", headers=staff.headers).json
    assert [d["id"] for d in first_again["possible_duplicates"]] == [second["id"]]


def test_same_name_birth_date_and_village_is_a_possible_duplicate(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    first = _report(client, staff)
    second = _report(client, staff, child={"name": "BUDI SANTOSO", "sex": "male",
                                           "birth_date": "2017-05-04"})
    assert second["child"]["id"] != first["child"]["id"]
    assert second["possible_duplicates"][0]["reason"] == "same_child_and_village"


def test_other_village_or_birth_date_is_not_a_duplicate(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    _report(client, staff)
    elsewhere = _report(client, staff, village_code=LAMARU)
    other_child = _report(client, staff, child={"name": "Budi Santoso", "sex": "male",
                                                "birth_date": "2016-01-01"})
    assert elsewhere["possible_duplicates"] == []
    assert other_child["possible_duplicates"] == []
