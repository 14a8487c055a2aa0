"""The region's calendar: "today", ages and day boundaries are local, never the server's UTC
date. The clock is frozen at the hours where the two differ: 00:30 and 07:59 local time, and
16:30 WIB / 23:30 WIT (the same instant)."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from api.cases.models import Case
from api.regions import calendar
from api.regions.service import import_regions
from tests.conftest import BALIKPAPAN, LAMARU, MANGGAR, child_report

WITA_0604 = datetime(2026, 11, 30, 22, 4, tzinfo=UTC)  # 06:04 WITA on 1 Dec 2026
WITA_0030 = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 00:30 WITA on 1 Dec 2026
WITA_0759 = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)  # 07:59 WITA on 1 Dec 2026
WIB_1630 = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)  # 16:30 WIB = 23:30 WIT, 30 Nov
WIT_0030 = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)  # 00:30 WIT on 1 Dec = 22:30 WIB 30 Nov
DEC_1 = date(2026, 12, 1)
EARLY_HOURS = pytest.mark.parametrize("instant", [WITA_0030, WITA_0604, WITA_0759],
                                      ids=["00:30 WITA", "06:04 WITA", "07:59 WITA"])

# a national deployment: Kota Medan (WIB) and Kota Jayapura (WIT) beside Balikpapan (WITA)
MEDAN_VILLAGE = "1275011001"
JAYAPURA_VILLAGE = "9171011001"
OTHER_ZONES = [
    ("12", "Sumatera Utara"), ("1275", "Kota Medan"), ("127501", "Medan Contoh"),
    (MEDAN_VILLAGE, "Kelurahan Contoh Medan"),
    ("91", "Papua"), ("9171", "Kota Jayapura"), ("917101", "Jayapura Contoh"),
    (JAYAPURA_VILLAGE, "Kelurahan Contoh Jayapura"),
]


def at(instant):
    return time_machine.travel(instant, tick=True)


# ---------- the module ----------

@pytest.mark.parametrize(("code", "offset_hours"), [
    (MANGGAR, 8), (BALIKPAPAN, 8), ("6371", 8), ("64", 8), (MEDAN_VILLAGE, 7), ("31", 7),
    ("6171", 7), (JAYAPURA_VILLAGE, 9), ("81", 9), ("96", 9), ("5171", 8),
])
def test_each_province_keeps_its_zone(code, offset_hours):
    zone = calendar.zone_of(code)
    assert WITA_0604.astimezone(zone).utcoffset() == timedelta(hours=offset_hours)


def test_regions_outside_the_table_use_the_deployment_zone():
    assert calendar.zone_of(None) == calendar.default_zone()
    assert calendar.zone_of("99") == calendar.default_zone()


@EARLY_HOURS
def test_today_is_the_citys_not_the_servers(instant):
    with at(instant):
        assert datetime.now(UTC).date() == date(2026, 11, 30)
        assert calendar.today_in(MANGGAR) == DEC_1


def test_one_instant_is_two_days_across_the_country():
    with at(WIB_1630):
        assert calendar.today_in(MEDAN_VILLAGE) == date(2026, 11, 30)
        assert calendar.today_in(JAYAPURA_VILLAGE) == date(2026, 11, 30)
    with at(WIT_0030):
        assert calendar.today_in(MEDAN_VILLAGE) == date(2026, 11, 30)
        assert calendar.today_in(MANGGAR) == date(2026, 11, 30)
        assert calendar.today_in(JAYAPURA_VILLAGE) == DEC_1


def test_the_18th_birthday_makes_an_adult():
    assert calendar.is_child(date(2008, 12, 2), DEC_1)
    assert not calendar.is_child(date(2008, 12, 1), DEC_1)


def test_local_midnight_is_the_day_boundary():
    assert calendar.day_start(DEC_1, MANGGAR) == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert calendar.day_start(DEC_1, MEDAN_VILLAGE) == datetime(2026, 11, 30, 17, tzinfo=UTC)
    assert calendar.day_start(DEC_1, JAYAPURA_VILLAGE) == datetime(2026, 11, 30, 15, tzinfo=UTC)


# ---------- every date rule of the API ----------

@pytest.fixture
def rt_head(make_user):
    return make_user("rt_head", [MANGGAR])


@pytest.fixture
def caseworker(make_user):
    return make_user("caseworker", [BALIKPAPAN])


@pytest.fixture
def cadre(make_user):
    return make_user("posyandu_cadre", [LAMARU])


@EARLY_HOURS
def test_an_incident_of_today_is_not_in_the_future(client, rt_head, instant):
    with at(instant):
        response = client.post("/api/v1/cases", json=child_report(incident_date="2026-12-01"),
                               headers=rt_head.headers)
        assert response.status_code == 201, response.json
        tomorrow = client.post("/api/v1/cases", json=child_report(incident_date="2026-12-02"),
                               headers=rt_head.headers)
        assert tomorrow.status_code == 422
        assert tomorrow.json["errors"] == {"incident_date": ["Must not be in the future."]}


@EARLY_HOURS
def test_a_child_is_18_on_the_birthday_of_the_citys_calendar(client, session, rt_head,
                                                              instant):
    with at(instant):
        before = session.scalar(select(func.count()).select_from(Case))
        adult = client.post("/api/v1/cases", json=child_report(
            child={"name": "Contoh Dewasa", "sex": "male", "birth_date": "2008-12-01"}),
            headers=rt_head.headers)
        assert adult.status_code == 422
        assert adult.json["errors"] == {
            "child.birth_date": ["The person must be under 18 years old."]}
        assert session.scalar(select(func.count()).select_from(Case)) == before
        minor = client.post("/api/v1/cases", json=child_report(
            child={"name": "Contoh Remaja", "sex": "male", "birth_date": "2008-12-02"}),
            headers=rt_head.headers)
        assert minor.status_code == 201


@EARLY_HOURS
def test_a_newborn_of_today_can_be_reported(client, rt_head, instant):
    with at(instant):
        response = client.post("/api/v1/cases", json=child_report(
            incident_date=None, child={"name": "Bayi Contoh", "sex": "female",
                                       "birth_date": "2026-12-01"}),
            headers=rt_head.headers)
        assert response.status_code == 201, response.json


@EARLY_HOURS
def test_a_child_turning_6_today_is_of_school_age(client, rt_head, caseworker, instant):
    with at(instant):
        case_id = client.post("/api/v1/cases", json=child_report(
            child={"name": "Contoh Enam", "sex": "male", "birth_date": "2020-12-01"}),
            headers=rt_head.headers).json["id"]
        plan = client.get(f"/api/v1/cases/{case_id}/routing-plan",
                          headers=caseworker.headers).json
        assert ("DISDIK", "school_support") in {(p["agency"], p["service"]) for p in plan}
        read = client.get(f"/api/v1/cases/{case_id}", headers=caseworker.headers).json
        assert read["child"]["age_months"] == 72


@EARLY_HOURS
def test_todays_reports_are_listed_and_counted_for_today(client, rt_head, caseworker,
                                                         instant):
    with at(instant):
        case_id = client.post("/api/v1/cases", json=child_report(),
                              headers=rt_head.headers).json["id"]
        listed = client.get("/api/v1/cases", query_string={"reported_from": "2026-12-01"},
                            headers=caseworker.headers).json
        assert case_id in {c["id"] for c in listed}
        yesterday = client.get("/api/v1/cases", query_string={"reported_to": "2026-11-30"},
                               headers=caseworker.headers).json
        assert case_id not in {c["id"] for c in yesterday}
        stats = client.get("/api/v1/stats/kla", query_string={
            "area": BALIKPAPAN, "from": "2026-12-01", "to": "2026-12-01"},
            headers=caseworker.headers).json
        assert stats["totals"]["violence_cases"] >= 1
        row = next(r for r in stats["kelurahan"] if r["code"] == MANGGAR)
        assert row["violence_cases"] == len([c for c in listed
                                              if c["village_code"] == MANGGAR])


@EARLY_HOURS
def test_a_weighing_of_today_is_recorded(client, cadre, instant):
    with at(instant):
        response = client.post("/api/v1/measurements", json={
            "child": {"name": "Bayi Timbang", "sex": "female", "birth_date": "2026-12-01",
                      "village_code": LAMARU},
            "measured_on": "2026-12-01", "weight_kg": 3.2, "height_cm": 49.0,
            "position": "lying"}, headers=cadre.headers)
        assert response.status_code == 201, response.json
        assert response.json["age_days"] == 0
        tomorrow = client.post("/api/v1/measurements", json={
            "child_id": response.json["child_id"], "measured_on": "2026-12-02",
            "weight_kg": 3.2, "height_cm": 49.0, "position": "lying"}, headers=cadre.headers)
        assert tomorrow.status_code == 422
        assert "measured_on" in tomorrow.json["errors"]


def test_the_reference_year_is_the_citys(client, rt_head):
    with at(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)):  # 00:30 WITA on 1 January 2027
        response = client.post("/api/v1/cases", json=child_report(),
                               headers=rt_head.headers)
        assert response.json["reference"].startswith("KS-6471-2027-")


# ---------- a national deployment: WIB, WITA and WIT at one instant ----------

@pytest.fixture
def national(session, make_user):
    import_regions(session=session, rows=OTHER_ZONES)
    session.commit()
    return {village: make_user("rt_head", [village])
            for village in (MEDAN_VILLAGE, MANGGAR, JAYAPURA_VILLAGE)}


def _report_of_today(client, reporter, village):
    return client.post("/api/v1/cases", json=child_report(
        village_code=village, incident_date="2026-12-01"), headers=reporter.headers)


def test_at_00_30_wit_only_jayapura_is_in_december(client, national):
    with at(WIT_0030):
        statuses = {village: _report_of_today(client, reporter, village).status_code
                    for village, reporter in national.items()}
    assert statuses == {MEDAN_VILLAGE: 422, MANGGAR: 422, JAYAPURA_VILLAGE: 201}


def test_at_16_30_wib_no_city_is_in_december(client, national):
    with at(WIB_1630):
        statuses = {village: _report_of_today(client, reporter, village).status_code
                    for village, reporter in national.items()}
    assert statuses == {MEDAN_VILLAGE: 422, MANGGAR: 422, JAYAPURA_VILLAGE: 422}


def test_day_filters_follow_each_cases_zone(client, national, make_user):
    analyst_like = make_user("caseworker", [MEDAN_VILLAGE, MANGGAR, JAYAPURA_VILLAGE])
    with at(WIT_0030):  # 1 Dec in Jayapura; still 30 Nov in Medan and Balikpapan
        ids = {village: client.post("/api/v1/cases", json=child_report(village_code=village),
                                    headers=reporter.headers).json["id"]
               for village, reporter in national.items()}
        on_dec_1 = {c["id"] for c in client.get(
            "/api/v1/cases", query_string={"reported_from": "2026-12-01"},
            headers=analyst_like.headers).json}
        on_nov_30 = {c["id"] for c in client.get(
            "/api/v1/cases", query_string={"reported_from": "2026-11-30",
                                           "reported_to": "2026-11-30"},
            headers=analyst_like.headers).json}
    assert on_dec_1 == {ids[JAYAPURA_VILLAGE]}
    assert on_nov_30 == {ids[MEDAN_VILLAGE], ids[MANGGAR]}
