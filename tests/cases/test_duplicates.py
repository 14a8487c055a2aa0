"""Possible duplicates are linked on report, never merged (DESIGN §5)."""

import pytest

from tests.conftest import BALIKPAPAN, BALIKPAPAN_TIMUR, LAMARU, child_report

NIK = "6471010405170003"
BARU_ILIR = "6471021001"  # Balikpapan Barat


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


def test_known_nik_in_another_city_is_not_linked_nor_revealed(client, make_user):
    banjarmasin = make_user("caseworker", ["6371"])
    balikpapan = make_user("caseworker", [BALIKPAPAN])
    child = {"name": "Siti Rahma", "sex": "female", "birth_date": "2017-05-05",
             "nik": "6371014505170001", "school": "SDN 1", "disability": "tunarungu"}
    there = client.post("/api/v1/cases", headers=banjarmasin.headers, json=child_report(
        source="hotline", village_code="6371011001", child=child)).json
    here = client.post("/api/v1/cases", headers=balikpapan.headers, json=child_report(
        source="hotline", child={"name": "x", "sex": "male", "birth_date": "2016-01-01",
                                 "nik": "6371014505170001"})).json
    assert here["child"]["id"] != there["child"]["id"]
    assert here["child"]["name"] == "x" and here["child"]["school"] is None
    assert here["possible_duplicates"] == []


def test_what_the_reporter_wrote_is_kept_when_a_known_child_is_linked(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    child = {"name": "Budi Santoso", "sex": "male", "birth_date": "2017-05-04", "nik": NIK}
    first = _report(client, staff, child=child)
    second = _report(client, staff, child={**child, "name": "Budi S"})
    assert second["child"]["name"] == "Budi Santoso"
    steps = client.get(f"/api/v1/cases/{second['id']}/timeline", headers=staff.headers).json
    assert steps[0]["details"]["reported_child"] == {"name": "Budi S"}
    assert first["possible_duplicates"] == []


def test_reporter_filters_only_on_what_the_reporter_view_shows(client, make_user):
    rt_head = make_user("rt_head", ["6471011001"])
    case = client.post("/api/v1/cases", json=child_report(), headers=rt_head.headers).json
    for query in ("risk_level=high", "village_code=6471", "overdue=true",
                  "assigned_to=00000000-0000-0000-0000-000000000000"):
        response = client.get(f"/api/v1/cases?{query}", headers=rt_head.headers)
        assert response.status_code == 422, query
    assert client.get("/api/v1/cases?q=Budi", headers=rt_head.headers).json == []
    assert [c["id"] for c in client.get(f"/api/v1/cases?q={case['reference']}",
                                        headers=rt_head.headers).json] == [case["id"]]


def test_identity_numbers_are_stored_encrypted_and_found_by_keyed_hash(client, make_user,
                                                                       connection):
    from sqlalchemy import text

    from api.crypto import lookup_hash

    staff = make_user("caseworker", [BALIKPAPAN])
    child = {"name": "Budi Santoso", "sex": "male", "birth_date": "2017-05-04", "nik": NIK}
    household = {"kk_number": "6471010101170009"}
    first = _report(client, staff, child=child, household=household)
    stored_nik, nik_hash = connection.execute(text(
        "SELECT nik, nik_hash FROM children WHERE nik_hash IS NOT NULL")).one()
    stored_kk = connection.execute(text(
        "SELECT kk_number FROM households WHERE kk_hash IS NOT NULL")).scalar_one()
    assert NIK not in stored_nik and stored_nik.startswith("gAAAA")
    assert "6471010101170009" not in stored_kk
    assert nik_hash == lookup_hash(NIK) != NIK
    assert first["child"]["nik"] == NIK and first["household"]["kk_number"] == household[
        "kk_number"]
    second = _report(client, staff, child=child)  # found again by the hash
    assert second["child"]["id"] == first["child"]["id"]


def test_keys_rotate_re_encrypts_with_the_new_key(tmp_path, monkeypatch):
    import sqlite3

    from click.testing import CliRunner
    from cryptography.fernet import Fernet

    from api import create_app
    from api.cli import main

    monkeypatch.setenv("LINDUNG_DATABASE_URL", f"sqlite:///{tmp_path / 'keys.sqlite3'}")
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("LINDUNG_DATA_KEYS", old)
    runner = CliRunner()
    output = runner.invoke(main, ["demo"]).output
    token = next(line.split()[2] for line in output.splitlines() if "demo_caseworker " in line)
    created = create_app().test_client().post(
        "/api/v1/cases", headers={"Authorization": f"Bearer {token}"},
        json=child_report(source="hotline", child={"name": "Rina", "sex": "female",
                                                   "birth_date": "2018-02-03",
                                                   "nik": "6471014302180001"}))
    assert created.status_code == 201
    monkeypatch.setenv("LINDUNG_DATA_KEYS", f"{new},{old}")
    assert runner.invoke(main, ["keys", "rotate"]).exit_code == 0
    with sqlite3.connect(tmp_path / "keys.sqlite3") as raw:
        stored = raw.execute("SELECT nik FROM children WHERE nik IS NOT NULL").fetchone()[0]
    assert Fernet(new.encode()).decrypt(stored.encode()) == b"6471014302180001"
    monkeypatch.setenv("LINDUNG_DATA_KEYS", new)  # the old key can go now
    case = create_app().test_client().get(f"/api/v1/cases/{created.json['id']}",
                                          headers={"Authorization": f"Bearer {token}"}).json
    assert case["child"]["nik"] == "6471014302180001"


def test_links_to_cases_of_another_kecamatan_are_not_shown(client, make_user):
    """The child's cases in Balikpapan Barat are the business of that kecamatan's staff."""
    city = make_user("caseworker", [BALIKPAPAN])
    timur = make_user("caseworker", [BALIKPAPAN_TIMUR])
    supervisor = make_user("supervisor", [BALIKPAPAN_TIMUR])
    child = {"name": "Budi Santoso", "sex": "male", "birth_date": "2017-05-04", "nik": NIK}
    barat = _report(client, city, child=child, village_code=BARU_ILIR)
    here = _report(client, timur, child=child)
    assert [d["id"] for d in here["possible_duplicates"]] == []
    assert [d["id"] for d in _read(client, city, here)["possible_duplicates"]] == [barat["id"]]
    shown = client.get(f"/api/v1/children/{here['child']['id']}", headers=timur.headers).json
    assert [c["id"] for c in shown["cases"]] == [here["id"]]
    client.get(f"/api/v1/cases/{barat['id']}", headers=city.headers)
    log = client.get(f"/api/v1/children/{here['child']['id']}/access-log",
                     headers=supervisor.headers).json
    assert barat["id"] not in {event["subject_id"] for event in log}
    assert here["id"] in {event["subject_id"] for event in log}


def _read(client, staff, case):
    return client.get(f"/api/v1/cases/{case['id']}", headers=staff.headers).json


def test_correcting_a_nik_says_nothing_of_a_child_in_another_city(client, make_user):
    banjarmasin = make_user("caseworker", ["6371"])
    balikpapan = make_user("caseworker", [BALIKPAPAN])
    nik = "6371014505170001"
    _report(client, banjarmasin, village_code="6371011001",
               child={"name": "Siti Rahma", "sex": "female", "birth_date": "2017-05-05",
                      "nik": nik})
    here = _report(client, balikpapan)
    corrected = _patch_child(client, balikpapan, here, {"nik": nik})
    assert corrected.status_code == 200, corrected.json
    assert corrected.json["child"]["nik"] == nik
    # in one's own areas a NIK still names one child record
    other = _report(client, balikpapan, child={"name": "Ani", "sex": "female",
                                               "birth_date": "2016-02-02"})
    refused = _patch_child(client, balikpapan, other, {"nik": nik})
    assert refused.status_code == 422 and "child.nik" in refused.json["errors"]


def _patch_child(client, staff, case, child_changes):
    url = f"/api/v1/cases/{case['id']}"
    etag = client.get(url, headers=staff.headers).headers["ETag"]
    return client.patch(url, json={"child": child_changes},
                        headers={**staff.headers, "If-Match": etag})


def _child(name):
    return {"name": name, "sex": "female", "birth_date": "2018-03-09"}


@pytest.mark.parametrize(("written", "again"), [
    ("Siti Nurhaliza", "Siti  Nurhaliza"),  # two spaces
    ("Élise Wulandari", "ÉLISE WULANDARI"),  # accented capitals, on every database
    ("Élise Wulandari", "Elise Wulandary"),  # no accent, one letter off in a long name
    ("Muhammad Rizki Djoenaedi", "Moh. Rizky Junaedi"),  # Indonesian spelling variants
])
def test_a_name_written_another_way_is_a_possible_duplicate(client, make_user, written,
                                                           again):
    staff = make_user("caseworker", [BALIKPAPAN])
    first = _report(client, staff, child=_child(written))
    second = _report(client, staff, child=_child(again))
    assert [d["id"] for d in second["possible_duplicates"]] == [first["id"]]


def test_close_but_other_names_are_not_linked(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    _report(client, staff, child=_child("Siti Aminah"))
    other = _report(client, staff, child=_child("Siti Aisyah"))
    assert other["possible_duplicates"] == []


def test_search_follows_the_same_rules_on_every_database(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    case = _report(client, staff, child=_child("Élise  Wulandari"))

    def found(q):
        answer = client.get("/api/v1/cases", query_string={"q": q}, headers=staff.headers)
        return case["id"] in {c["id"] for c in answer.json}

    assert all(found(q) for q in ("elise", "ÉLISE WULAN", "Elise Wulandari", "wulandari"))
    assert not found("Elisa")
