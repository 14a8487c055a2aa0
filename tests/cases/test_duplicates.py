"""Possible duplicates are linked on report, never merged (DESIGN §5)."""

import uuid

import pytest

from tests.conftest import BALIKPAPAN, BALIKPAPAN_TIMUR, LAMARU, MANGGAR, child_report

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


# ---------- clusters: bounded whatever a child's history ----------

def _read_with_etag(client, staff, case):
    answer = client.get(f"/api/v1/cases/{case['id']}", headers=staff.headers)
    assert answer.status_code == 200, answer.json
    return answer.json, answer.headers["ETag"]


def test_a_much_reported_child_shows_the_most_recent_reports_and_how_many(client, make_user):
    from api.cases.duplicates import SHOWN

    staff = make_user("caseworker", [BALIKPAPAN])
    child = {"name": "Budi Santoso", "sex": "male", "birth_date": "2017-05-04", "nik": NIK}
    reports = [_report(client, staff, child=child) for _ in range(SHOWN + 3)]
    last = reports[-1]
    assert last["possible_duplicate_count"] == SHOWN + 2
    assert [d["id"] for d in last["possible_duplicates"]] == [
        r["id"] for r in reversed(reports[-SHOWN - 1:-1])]
    first, _ = _read_with_etag(client, staff, reports[0])
    assert first["possible_duplicate_count"] == SHOWN + 2
    assert [d["id"] for d in first["possible_duplicates"]] == [
        r["id"] for r in reversed(reports[-SHOWN:])]
    assert {d["reason"] for d in first["possible_duplicates"]} == {"same_child"}
    listed = client.get("/api/v1/cases", query_string={"page_size": 5},
                        headers=staff.headers).json
    assert [c["possible_duplicate_count"] for c in listed] == [SHOWN + 2] * 5


def _report_of_child(client, staff, case, **overrides):
    """A report about the child of CASE, named by its record."""
    report = child_report(source="hotline", child_id=case["child"]["id"], **overrides)
    del report["child"]
    response = client.post("/api/v1/cases", json=report, headers=staff.headers)
    assert response.status_code == 201, response.json
    return response.json


def test_a_report_matching_two_clusters_joins_them(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    here = [_report(client, staff) for _ in range(2)]  # Budi Santoso of Manggar
    there = [_report(client, staff, village_code=LAMARU)]  # a namesake's record in Lamaru
    there.append(_report_of_child(client, staff, there[0], village_code=LAMARU))
    assert [d["id"] for d in there[1]["possible_duplicates"]] == [there[0]["id"]]
    # reported in Manggar for the Lamaru record: the same child as both
    joined = _report_of_child(client, staff, there[0])
    assert {d["id"]: d["reason"] for d in joined["possible_duplicates"]} == {
        here[0]["id"]: "same_child_and_village", here[1]["id"]: "same_child_and_village",
        there[0]["id"]: "same_child", there[1]["id"]: "same_child"}
    first, _ = _read_with_etag(client, staff, here[0])
    assert {d["id"] for d in first["possible_duplicates"]} == {
        here[1]["id"], there[0]["id"], there[1]["id"], joined["id"]}
    assert first["possible_duplicate_count"] == 4


def test_a_new_duplicate_changes_the_etag_not_the_version_of_the_others(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    first = _report(client, staff)
    before, etag = _read_with_etag(client, staff, first)
    _report(client, staff)
    after, etag_after = _read_with_etag(client, staff, first)
    assert etag_after != etag and after["possible_duplicate_count"] == 1
    assert after["updated_at"] == before["updated_at"]
    assert client.get(f"/api/v1/cases/{first['id']}",
                      headers={**staff.headers, "If-None-Match": etag}).status_code == 200


# ---------- deciding a possible duplicate ----------

def _decide(client, staff, case, other, decision, *, etag=None, note=None):
    url = f"/api/v1/cases/{case['id']}"
    if etag is None:
        etag = client.get(url, headers=staff.headers).headers["ETag"]
    body = {"other_case_id": other["id"], "decision": decision,
            **({"note": note} if note else {})}
    return client.post(f"{url}/duplicates", json=body,
                       headers={**staff.headers, "If-Match": etag})


def test_not_a_duplicate_is_shown_no_more_on_either_case_for_good(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    first = _report(client, staff)
    second = _report(client, staff, child={"name": "BUDI SANTOSO", "sex": "male",
                                           "birth_date": "2017-05-04"})
    answer = _decide(client, staff, first, second, "not_duplicate", note="Other family")
    assert answer.status_code == 200, answer.json
    assert answer.json["possible_duplicates"] == [] == _read(client, staff, second)[
        "possible_duplicates"]
    assert answer.json["possible_duplicate_count"] == 0
    third = _report(client, staff)
    assert {d["id"] for d in third["possible_duplicates"]} == {first["id"], second["id"]}
    assert [d["id"] for d in _read(client, staff, first)["possible_duplicates"]] == [
        third["id"]]
    assert [d["id"] for d in _read(client, staff, second)["possible_duplicates"]] == [
        third["id"]]
    again = _decide(client, staff, first, second, "not_duplicate")
    assert again.status_code == 422 and "other_case_id" in again.json["errors"]
    steps = client.get(f"/api/v1/cases/{second['id']}/timeline", headers=staff.headers).json
    decided = [s for s in steps if s["kind"] == "duplicate_decided"]
    assert [(s["details"]["decision"], s["details"]["other_case_id"], s["note"])
            for s in decided] == [("not_duplicate", first["id"], "Other family")]


def test_confirmed_closes_the_newer_case_as_a_duplicate(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    first = _report(client, staff)
    second = _report(client, staff)
    answer = _decide(client, staff, second, first, "confirmed")
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "closed" and answer.json["closure_reason"] == "duplicate"
    assert _read(client, staff, first)["status"] == "reported"
    steps = client.get(f"/api/v1/cases/{second['id']}/timeline", headers=staff.headers).json
    assert {"duplicate_decided", "status_changed"} <= {s["kind"] for s in steps}
    # from the older case's side, too: the newer one is closed already
    assert _decide(client, staff, first, second, "confirmed").status_code == 409


def test_confirming_a_newer_case_with_open_referrals_is_a_conflict(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    first = _report(client, staff)
    second = _report(client, staff)
    url = f"/api/v1/cases/{second['id']}"
    for action, body in (("triage", {"risk_level": "high"}), ("route", None)):
        etag = client.get(url, headers=staff.headers).headers["ETag"]
        done = client.post(f"{url}/{action}", json=body,
                           headers={**staff.headers, "If-Match": etag})
        assert done.status_code == 200, done.json
    refused = _decide(client, staff, first, second, "confirmed")
    assert refused.status_code == 409
    assert _read(client, staff, second)["status"] == "referred"


def test_deciding_needs_the_cases_version_and_a_caseworker_of_the_area(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    elsewhere = make_user("caseworker", ["6371"])
    rt_head = make_user("rt_head", [MANGGAR])
    first = _report(client, staff)
    second = _report(client, staff)
    url = f"/api/v1/cases/{first['id']}/duplicates"
    body = {"other_case_id": second["id"], "decision": "confirmed"}
    assert client.post(url, json=body, headers=staff.headers).status_code == 428
    stale = client.post(url, json=body, headers={**staff.headers, "If-Match": '"stale"'})
    assert stale.status_code == 412
    assert client.post(url, json=body, headers=rt_head.headers).status_code == 403
    assert client.post(url, json=body, headers={**elsewhere.headers,
                                                "If-Match": '"x"'}).status_code == 404
    unknown = client.post(url, json={**body, "decision": "maybe"},
                          headers={**staff.headers, "If-Match": '"x"'})
    assert unknown.status_code == 422
    stranger = _report(client, staff, child=_child("Ani Lestari"))
    not_linked = _decide(client, staff, first, stranger, "not_duplicate")
    assert not_linked.status_code == 422 and "other_case_id" in not_linked.json["errors"]
    assert _read(client, staff, first)["status"] == "reported"


# ---------- the migration keeps what was linked ----------

def test_migrating_turns_linked_pairs_into_clusters_and_back(client, make_user, connection,
                                                             database_url):
    from sqlalchemy import text

    from api.migrate import downgrade, upgrade

    staff = make_user("caseworker", [BALIKPAPAN])
    cases = [_report(client, staff) for _ in range(3)]
    alone = _report(client, staff, child=_child("Ani Lestari"))
    downgrade(database_url, connection=connection, revision="f9a0b1c2d3e4")
    pairs = connection.execute(text(
        "SELECT case_id, other_case_id, reason FROM case_possible_duplicates")).all()
    assert len(pairs) == 6 and {reason for *_, reason in pairs} == {"same_child_and_village"}
    upgrade(database_url, connection=connection)
    clusters = dict(connection.execute(text(
        "SELECT id, duplicate_cluster_id FROM cases")).all())
    # read as text: hex digits on SQLite, the canonical form on PostgreSQL
    by_case = {str(uuid.UUID(str(case_id))): cluster and str(uuid.UUID(str(cluster)))
               for case_id, cluster in clusters.items()}
    assert {by_case[c["id"]] for c in cases} == {cases[0]["id"]}  # named after the earliest
    assert by_case[alone["id"]] is None


def test_a_decision_names_the_other_case_only_to_readers_of_its_area(client, make_user):
    supervisor = make_user("supervisor", [BALIKPAPAN])
    in_manggar = _report(client, supervisor, child={
        "name": "Budi Santoso", "sex": "male", "birth_date": "2017-05-04", "nik": NIK})
    in_lamaru = _report(client, supervisor, village_code=LAMARU, child={
        "name": "Budi Santoso", "sex": "male", "birth_date": "2017-05-04", "nik": NIK})
    assert [d["id"] for d in in_lamaru["possible_duplicates"]] == [in_manggar["id"]]
    answer = _decide(client, supervisor, in_manggar, in_lamaru, "not_duplicate")
    assert answer.status_code == 200, answer.json

    def decided(reader) -> dict:
        steps = client.get(f"/api/v1/cases/{in_manggar['id']}/timeline",
                           headers=reader.headers).json
        [step] = [s for s in steps if s["kind"] == "duplicate_decided"]
        return step["details"]

    assert decided(supervisor) == {"decision": "not_duplicate",
                                   "other_case_id": in_lamaru["id"],
                                   "other_reference": in_lamaru["reference"]}
    # a caseworker of Manggar alone may not open the case of Lamaru: not even its reference
    assert decided(make_user("caseworker", [MANGGAR])) == {"decision": "not_duplicate"}
