"""The agency feed sees every change an agency can see: each field of the agency view,
whichever case or endpoint it changed through, moves the referral that shows it once more."""

import json
from datetime import timedelta

import pytest

from api.cases.schemas import HouseholdViewSchema
from api.referrals.schemas import AgencyCaseViewSchema, AgencyChildViewSchema
from api.regions import calendar
from tests.conftest import BALIKPAPAN, LAMARU, stunting_report

# what no endpoint changes once a case exists, or what follows from other fields
FIXED = {"reference", "category", "child.age_months", "household.id"}


def _every_agency_view_field() -> set[str]:
    case = set(AgencyCaseViewSchema().fields) - {"child", "household"}
    child = {f"child.{name}" for name in AgencyChildViewSchema().fields}
    household = {f"household.{name}" for name in HouseholdViewSchema().fields}
    return case | child | household


@pytest.fixture
def staff(make_user):
    return make_user("caseworker", [BALIKPAPAN])


@pytest.fixture
def cadre(make_user):
    return make_user("posyandu_cadre", [LAMARU])


@pytest.fixture
def dinkes(make_user):
    return make_user("agency_system", agency="DINKES")


class Feed:
    """DINKES syncing: the referral ids after its cursor, and the cursor moved to the end."""

    def __init__(self, client, agency):
        self.client, self.agency, self.cursor = client, agency, None

    def sync(self) -> list[str]:
        seen = []
        while True:
            answer = self.client.get("/api/v1/referrals", query_string={"cursor": self.cursor},
                                     headers=self.agency.headers)
            assert answer.status_code == 200
            if not answer.json:
                return seen
            seen += [r["id"] for r in answer.json]
            self.cursor = json.loads(answer.headers["X-Pagination"])["next_cursor"]


@pytest.fixture
def routed(client, staff, cadre, dinkes):
    """A stunting case opened by a weighing, routed; DINKES synced to the end of its feed."""
    today = calendar.today_in(LAMARU)
    weighing = client.post("/api/v1/measurements", json={
        "child": {"name": "Putri Contoh", "sex": "female",
                  "birth_date": str(today - timedelta(days=365)), "village_code": LAMARU},
        "measured_on": str(today - timedelta(days=1)), "weight_kg": 7.0, "height_cm": 64.0,
        "position": "lying"}, headers=cadre.headers).json
    case_url = f"/api/v1/cases/{weighing['case_id']}"
    etag = client.get(case_url, headers=staff.headers).headers["ETag"]
    etag = client.post(f"{case_url}/triage", json={"risk_level": "medium"},
                       headers={**staff.headers, "If-Match": etag}).headers["ETag"]
    assert client.post(f"{case_url}/route", headers={**staff.headers, "If-Match": etag}
                       ).status_code == 200
    feed = Feed(client, dinkes)
    referral_id, = feed.sync()
    return {"case_url": case_url, "referral_id": referral_id, "feed": feed,
            "child_id": weighing["child_id"]}


def _patch(client, staff, url, body):
    etag = client.get(url, headers=staff.headers).headers["ETag"]
    answer = client.patch(url, json=body, headers={**staff.headers, "If-Match": etag})
    assert answer.status_code == 200, answer.json


def _agency_view(client, dinkes, referral_id):
    return client.get(f"/api/v1/referrals/{referral_id}", headers=dinkes.headers).json["case"]


def test_a_new_weighing_moves_the_referral_once(client, routed, cadre, dinkes):
    before = _agency_view(client, dinkes, routed["referral_id"])
    answer = client.post("/api/v1/measurements", json={
        "child_id": routed["child_id"], "measured_on": str(calendar.today_in(LAMARU)),
        "weight_kg": 6.8, "height_cm": 64.2, "position": "lying"}, headers=cadre.headers)
    assert answer.status_code == 201
    assert routed["feed"].sync() == [routed["referral_id"]]
    after = _agency_view(client, dinkes, routed["referral_id"])
    assert after["latest_measurement"]["weight_kg"] == 6.8 != before["latest_measurement"][
        "weight_kg"]
    assert routed["feed"].sync() == []


CHANGES = [
    ("risk_level", "triage", {"risk_level": "high"}),
    ("emergency", "patch", {"emergency": True}),
    ("village_code", "patch", {"village_code": "6471011003"}),
    ("rw", "patch", {"rw": "9"}),
    ("rt", "patch", {"rt": "9"}),
    ("address", "patch", {"address": "Jl. Contoh Baru"}),
    ("child.name", "patch", {"child": {"name": "Putri Contoh Baru"}}),
    ("child.sex", "patch", {"child": {"sex": "male"}}),
    ("child.birth_date", "patch", {"child": {"birth_date": "2025-11-02"}}),
    ("child.birth_date_estimated", "patch", {"child": {"age_months": 13}}),
    ("household.kk_number", "patch", {"household": {"kk_number": "6471010101200001"}}),
    ("household.head_name", "patch", {"household": {"head_name": "Contoh"}}),
    ("household.members_count", "patch", {"household": {"members_count": 4}}),
    ("household.welfare_decile", "patch", {"household": {"welfare_decile": 2}}),
    ("household.receives", "patch", {"household": {"receives": ["pkh"]}}),
    ("household.economic_stressors", "patch", {"household": {"economic_stressors": ["debt"]}}),
    ("latest_measurement", "weigh", None),
]


def test_the_changes_below_walk_every_field_of_the_agency_view():
    assert {field for field, _, _ in CHANGES} | FIXED == _every_agency_view_field()


@pytest.mark.parametrize(("field", "how", "body"), CHANGES, ids=[c[0] for c in CHANGES])
def test_each_field_of_the_agency_view_moves_the_referral(client, routed, staff, cadre,
                                                          dinkes, field, how, body):
    if field.startswith("household.") and field != "household.head_name":
        _patch(client, staff, routed["case_url"], {"household": {"head_name": "Awal"}})
        routed["feed"].sync()
    before = _agency_view(client, dinkes, routed["referral_id"])
    if how == "patch":
        _patch(client, staff, routed["case_url"], body)
    elif how == "triage":
        etag = client.get(routed["case_url"], headers=staff.headers).headers["ETag"]
        assert client.post(f"{routed['case_url']}/triage", json=body,
                           headers={**staff.headers, "If-Match": etag}).status_code == 200
    else:
        assert client.post("/api/v1/measurements", json={
            "child_id": routed["child_id"], "measured_on": str(calendar.today_in(LAMARU)),
            "weight_kg": 6.9, "height_cm": 64.5, "position": "lying"},
            headers=cadre.headers).status_code == 201
    assert routed["feed"].sync() == [routed["referral_id"]]
    assert _agency_view(client, dinkes, routed["referral_id"]) != before


def test_a_correction_through_another_case_of_the_child_moves_the_referral(
        client, routed, staff, dinkes):
    report = {**stunting_report(source="hotline", village_code=LAMARU),
              "child_id": routed["child_id"]}
    del report["child"]
    other = client.post("/api/v1/cases", json=report, headers=staff.headers)
    assert other.status_code == 201, other.json
    routed["feed"].sync()
    _patch(client, staff, f"/api/v1/cases/{other.json['id']}",
           {"child": {"name": "Putri Dikoreksi"}})
    assert routed["feed"].sync() == [routed["referral_id"]]
    assert _agency_view(client, dinkes, routed["referral_id"])["child"]["name"] == (
        "Putri Dikoreksi")


def test_a_change_the_agency_cannot_see_leaves_the_feed_alone(client, routed, staff):
    _patch(client, staff, routed["case_url"], {"description": "Catatan baru"})
    assert routed["feed"].sync() == []
