"""GET /stats/kla on a small known data set, every figure computed by hand."""

import csv
import io
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.cases.models import Case
from api.children.models import Child, Measurement
from api.referrals.models import Referral
from api.vocabularies.codes import (
    CaseStatus,
    Category,
    ClosureReason,
    ReferralStatus,
    Role,
    Service,
    Sex,
    Source,
)
from tests.conftest import BALIKPAPAN

AREA = "647101"  # Kecamatan Balikpapan Timur: Manggar, Lamaru, Teritip, Manggar Baru
MANGGAR, LAMARU, TERITIP, MANGGAR_BARU = (f"647101100{n}" for n in (1, 2, 3, 4))
PERIOD = {"area": AREA, "from": "2026-01-01", "to": "2026-06-30"}


WITA = ZoneInfo("Asia/Makassar")  # the cities' calendar


def at(text: str) -> datetime:
    """A moment given in local time (WITA, UTC+8)."""
    return datetime.fromisoformat(text).replace(tzinfo=WITA)


@pytest.fixture
def known_cases(session, make_user):
    reporter = make_user("caseworker", [BALIKPAPAN])
    child = Child(name="Anak", sex=Sex.MALE, birth_date=date(2018, 1, 1), village_code=MANGGAR)
    session.add(child)
    session.flush()
    number = iter(range(1, 100))

    def add_case(village, category, created, *, types=(), triaged=None, status=None,
                 closed=None, reason=None):
        case = Case(
            id=uuid.uuid4(), reference=f"KS-6471-2026-{next(number):06d}", category=category,
            status=status or (CaseStatus.TRIAGED if triaged else CaseStatus.REPORTED),
            violence_types=list(types), village_code=village, source=Source.HOTLINE,
            reporter_id=reporter.id, reporter_role=Role.CASEWORKER, child_id=child.id,
            triage_due_at=at(created) + timedelta(hours=24),
            triaged_at=at(triaged) if triaged else None, created_at=at(created),
            updated_at=at(created), closed_at=at(closed) if closed else None,
            closure_reason=reason)
        session.add(case)
        return case

    violence, stunting = Category.VIOLENCE, Category.STUNTING_RISK
    add_case(MANGGAR, violence, "2026-01-10T08:00", types=["physical", "psychological"],
             triaged="2026-01-10T18:00", status=CaseStatus.CLOSED, closed="2026-02-01T00:00",
             reason=ClosureReason.RESOLVED)
    late = add_case(MANGGAR, violence, "2026-02-15T00:00", types=["sexual"],
                    triaged="2026-02-17T00:00", status=CaseStatus.REFERRED)
    add_case(MANGGAR, violence, "2026-03-20T00:00", types=["physical"])
    served = add_case(LAMARU, stunting, "2026-04-01T00:00", triaged="2026-04-01T06:00",
                      status=CaseStatus.IN_SERVICE)
    add_case(LAMARU, violence, "2025-12-01T00:00", types=["neglect"],
             triaged="2025-12-01T02:00", status=CaseStatus.CLOSED, closed="2025-12-20T00:00",
             reason=ClosureReason.UNFOUNDED)
    add_case(TERITIP, violence, "2026-07-05T00:00", types=["physical"])
    session.flush()

    def add_referral(case, agency, service, created, due, status, accepted=None):
        session.add(Referral(
            id=uuid.uuid4(), case_id=case.id, agency_code=agency, service=service,
            status=status, due_at=at(due), accepted_at=at(accepted) if accepted else None,
            created_by=reporter.id, created_at=at(created), updated_at=at(created),
            sync_seq=next(number)))

    add_referral(late, "DINKES", Service.MEDICAL_EXAMINATION, "2026-02-17T00:00",
                 "2026-02-18T00:00", ReferralStatus.ACCEPTED, accepted="2026-02-17T12:00")
    late.first_accepted_at = at("2026-02-17T12:00")
    add_referral(late, "DINSOS", Service.SOCIAL_ASSISTANCE, "2026-02-17T00:00",
                 "2026-02-20T00:00", ReferralStatus.PENDING)
    add_referral(served, "DINKES", Service.NUTRITION_INTERVENTION, "2026-04-01T00:00",
                 "2026-04-04T00:00", ReferralStatus.COMPLETED, accepted="2026-04-05T00:00")
    served.first_accepted_at = at("2026-04-05T00:00")

    def measure(child_name, on, haz, waz, whz):
        kid = Child(name=child_name, sex=Sex.FEMALE, birth_date=date(2025, 1, 1),
                    village_code=MANGGAR)
        session.add(kid)
        session.flush()
        for day, values in zip(on, zip(haz, waz, whz, strict=True), strict=True):
            h, w, wh = values
            session.add(Measurement(
                child_id=kid.id, measured_on=date.fromisoformat(day), age_days=400,
                weight_kg=8.0, height_cm=70.0, position="lying", haz=h, waz=w, whz=wh,
                haz_category="normal", waz_category="normal", whz_category="normal",
                recorded_by=reporter.id, created_at=at(day + "T00:00")))

    measure("A", ["2026-03-01", "2026-05-01"], [-2.5, -1.0], [-1.0, -1.0], [0.0, 0.0])
    measure("B", ["2026-04-01"], [-1.0], [-2.2], [-2.5])
    measure("C", ["2025-11-01"], [-3.0], [-3.0], [-3.0])
    session.commit()


@pytest.fixture
def supervisor(make_user):
    return make_user("supervisor", [BALIKPAPAN])


def _rows(body):
    return {row["code"]: row for row in body["kelurahan"]}


def test_every_figure_matches_the_hand_count(client, known_cases, supervisor):
    response = client.get("/api/v1/stats/kla", query_string=PERIOD, headers=supervisor.headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["area"] == {"code": AREA, "name": "BALIKPAPAN TIMUR", "level": "district"}
    assert body["kelurahan_count"] == 4
    assert body["zero_violence_kelurahan"] == 3
    rows = _rows(body)
    assert rows[MANGGAR] == {
        "code": MANGGAR, "name": "MANGGAR", "violence_cases": 3, "stunting_risk_cases": 0,
        "open_cases": 2, "days_since_last_violence_case": 103, "overdue_referrals": 1,
        "triaged_cases": 2, "median_days_to_triage": 1.2,
        "accepted_cases": 1, "median_days_to_first_acceptance": 2.5,
        "suppressed": False}
    assert rows[LAMARU] == {
        "code": LAMARU, "name": "LAMARU", "violence_cases": 0, "stunting_risk_cases": 1,
        "open_cases": 1, "days_since_last_violence_case": 212, "overdue_referrals": 0,
        "triaged_cases": 1, "median_days_to_triage": 0.2,
        "accepted_cases": 1, "median_days_to_first_acceptance": 4.0,
        "suppressed": False}
    for quiet in (TERITIP, MANGGAR_BARU):  # no case in the period: a row all the same
        assert rows[quiet]["violence_cases"] == rows[quiet]["open_cases"] == 0
        assert rows[quiet]["days_since_last_violence_case"] is None
    assert body["totals"] == {
        "violence_cases": 3,
        "violence_by_type": {"physical": 2, "psychological": 1, "sexual": 1,
                             "exploitation": 0, "trafficking": 0, "neglect": 0, "other": 0},
        "stunting_risk_cases": 1, "open_cases": 3,
        "closed_by_reason": {"resolved": 1, "unfounded": 0, "duplicate": 0,
                             "transferred_out": 0, "not_reachable": 0, "withdrawn": 0},
        "children_measured": 2, "stunted_pct": 0.0, "wasted_pct": 50.0,
        "underweight_pct": 50.0,
    }
    assert body["monthly"] == [
        {"month": "2026-01", "violence_cases": 1, "stunting_risk_cases": 0},
        {"month": "2026-02", "violence_cases": 1, "stunting_risk_cases": 0},
        {"month": "2026-03", "violence_cases": 1, "stunting_risk_cases": 0},
        {"month": "2026-04", "violence_cases": 0, "stunting_risk_cases": 1},
        {"month": "2026-05", "violence_cases": 0, "stunting_risk_cases": 0},
        {"month": "2026-06", "violence_cases": 0, "stunting_risk_cases": 0},
    ]
    assert body["sla"] == {"triage_on_time_pct": 50.0, "triage_on_time": 2, "triage_late": 2,
                           "acceptance_on_time_pct": 33.3, "acceptance_on_time": 1,
                           "acceptance_late": 2}
    assert body["referral_outcomes"] == [
        {"agency": "DINKES", "referrals": 2, "pending": 0, "accepted": 1, "declined": 0,
         "in_progress": 0, "completed": 1, "cancelled": 0, "completed_pct": 50.0},
        {"agency": "DINSOS", "referrals": 1, "pending": 1, "accepted": 0, "declined": 0,
         "in_progress": 0, "completed": 0, "cancelled": 0, "completed_pct": 0.0},
    ]


def test_analyst_gets_published_kecamatan_figures_only(client, known_cases, make_user):
    """One case a month in the kecamatan: each month's count is published as 0, and every
    figure is a sum of published counts, so the three cases never add up to a 3 (the rules:
    docs/statistics-disclosure.md, tested against attacks in test_disclosure.py)."""
    analyst = make_user("analyst", [BALIKPAPAN])
    body = client.get("/api/v1/stats/kla", query_string=PERIOD, headers=analyst.headers).json
    nothing = {"violence_cases": 0,
               "violence_by_type": {"physical": 0, "psychological": 0, "sexual": 0,
                                    "exploitation": 0, "trafficking": 0, "neglect": 0,
                                    "other": 0},
               "stunting_risk_cases": 0, "children_measured": 0, "stunted_pct": None,
               "wasted_pct": None, "underweight_pct": None}
    assert body == {
        "area": {"code": AREA, "name": "BALIKPAPAN TIMUR", "level": "district"},
        "period": {"from": "2026-01-01", "to": "2026-06-30"},
        "disclosure": {"rounding_base": 5, "methodology": "docs/statistics-disclosure.md"},
        "totals": nothing,
        "kecamatan_count": 1, "zero_violence_kecamatan": 1,
        "kecamatan": [{"code": AREA, "name": "BALIKPAPAN TIMUR", **nothing}],
        "monthly": [{"month": f"2026-0{n}", "violence_cases": 0, "stunting_risk_cases": 0}
                    for n in range(1, 7)],
        "sla": {"triage_on_time_pct": None, "triage_on_time": 0, "triage_late": 0},
    }


def test_analyst_csv_has_the_kecamatan_rows(client, known_cases, make_user):
    analyst = make_user("analyst", [BALIKPAPAN])
    response = client.get("/api/v1/stats/kla", query_string={**PERIOD, "area": BALIKPAPAN},
                          headers={**analyst.headers, "Accept": "text/csv"})
    assert response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["Region code"] for row in table] == [f"64710{n}" for n in range(1, 7)]
    assert {row["New violence cases"] for row in table} == {"0"}
    assert "Violence: Trafficking" in table[0] and "Kelurahan" not in table[0]


def test_analyst_may_not_ask_for_one_kelurahan(client, known_cases, make_user):
    analyst = make_user("analyst", [BALIKPAPAN])
    response = client.get("/api/v1/stats/kla", query_string={**PERIOD, "area": MANGGAR},
                          headers=analyst.headers)
    assert response.status_code == 422 and "area" in response.json["errors"]


def test_days_and_months_are_local(client, session, make_user, supervisor):
    reporter = make_user("caseworker", [BALIKPAPAN])
    child = Child(name="Anak", sex=Sex.MALE, birth_date=date(2018, 1, 1), village_code=MANGGAR)
    session.add(child)
    session.flush()
    # 1 June, 06:00 in Balikpapan is still 31 May in UTC
    session.add(Case(id=uuid.uuid4(), reference="KS-6471-2026-000099",
                     category=Category.VIOLENCE, status=CaseStatus.REPORTED,
                     violence_types=["physical"], village_code=MANGGAR, source=Source.HOTLINE,
                     reporter_id=reporter.id, reporter_role=Role.CASEWORKER, child_id=child.id,
                     triage_due_at=at("2026-06-02T06:00"), created_at=at("2026-06-01T06:00"),
                     updated_at=at("2026-06-01T06:00")))
    session.commit()
    june = client.get("/api/v1/stats/kla", headers=supervisor.headers, query_string={
        "area": AREA, "from": "2026-06-01", "to": "2026-06-30"}).json
    assert june["totals"]["violence_cases"] == 1
    assert june["monthly"] == [{"month": "2026-06", "violence_cases": 1,
                                "stunting_risk_cases": 0}]


@pytest.mark.parametrize(("query", "field"), [({"to": "2999-01-01"}, "to"),
                                              ({"from": "2026-02-01", "to": "2026-01-01"}, "to"),
                                              ({"to": "2025-01-01"}, "from")])
def test_period_must_be_past_and_ordered(client, supervisor, query, field):
    response = client.get("/api/v1/stats/kla", query_string={"area": AREA, **query},
                          headers=supervisor.headers)
    assert response.status_code == 422 and field in response.json["errors"]


def test_no_personal_data_in_statistics(client, known_cases, make_user):
    analyst = make_user("analyst", [BALIKPAPAN])
    text = client.get("/api/v1/stats/kla", query_string=PERIOD,
                      headers=analyst.headers).get_data(as_text=True)
    assert "Anak" not in text and "KS-6471" not in text


def test_csv_has_the_same_numbers(client, known_cases, supervisor):
    body = client.get("/api/v1/stats/kla", query_string=PERIOD, headers=supervisor.headers).json
    response = client.get("/api/v1/stats/kla", query_string=PERIOD,
                          headers={**supervisor.headers, "Accept": "text/csv"})
    assert response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["Region code"] for r in table] == [row["code"] for row in body["kelurahan"]]
    manggar = next(r for r in table if r["Region code"] == MANGGAR)
    assert (manggar["New violence cases"], manggar["Open cases"],
            manggar["Days since last violence case"],
            manggar["Median days to triage"]) == ("3", "2", "103", "1.2")
    indonesian = client.get("/api/v1/stats/kla", query_string={**PERIOD, "format": "csv",
                                                               "lang": "id"},
                            headers=supervisor.headers).get_data(as_text=True)
    assert indonesian.splitlines()[0].startswith("Kode wilayah,Kelurahan,Kasus kekerasan baru")


def test_csv_cells_cannot_be_formulas():
    from api.stats.export import kelurahan_csv

    text = kelurahan_csv([{"code": "1", "name": "=HYPERLINK(\"x\")", "violence_cases": -1}],
                         lang="en")
    assert "'=HYPERLINK" in text and ",-1," in text


@pytest.mark.parametrize(("role", "areas", "status"), [
    ("caseworker", ["647102"], 403), ("supervisor", ["6371"], 403),
    ("rt_head", [MANGGAR], 403), ("agency_officer", [], 403), ("admin", [], 403),
    ("caseworker", [AREA], 200), ("analyst", [], 200)])
def test_who_may_read_statistics_of_an_area(client, make_user, role, areas, status):
    caller = make_user(role, areas, "DINSOS" if role == "agency_officer" else None)
    response = client.get("/api/v1/stats/kla", query_string=PERIOD, headers=caller.headers)
    assert response.status_code == status


def test_unknown_area_is_422(client, supervisor):
    response = client.get("/api/v1/stats/kla?area=6499", headers=supervisor.headers)
    assert response.status_code == 422 and "area" in response.json["errors"]
