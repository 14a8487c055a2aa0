"""The routing rule sets of the cities as data (GET/PUT /routing-rules) and the agencies
(/agencies)."""

import pytest
from sqlalchemy import select, text

from api.migrate import downgrade, upgrade
from api.referrals.models import RoutingRule
from api.referrals.routing import default_rules
from api.regions.service import import_regions
from tests.conftest import (
    BALIKPAPAN,
    BALIKPAPAN_TIMUR,
    BANJARMASIN,
    MANTUIL,
    child_report,
    stunting_report,
)

RULES = "/api/v1/routing-rules"
ONLY_SHELTER = [{
    "id": "young-children-shelter", "description": "Under-fives: safe shelter",
    "when": {"category": "violence", "child_age_years": {"max": 4}},
    "agency": "UPTD_PPA", "service": "safe_shelter", "due_in_hours": 2,
}]


@pytest.fixture
def supervisor(make_user):
    return make_user("supervisor", [BALIKPAPAN])


@pytest.fixture
def banjarmasin_supervisor(make_user):
    return make_user("supervisor", [BANJARMASIN])


def _plan(client, caller, case_id) -> list[tuple]:
    plan = client.get(f"/api/v1/cases/{case_id}/routing-plan", headers=caller.headers)
    assert plan.status_code == 200, plan.json
    return [(p["agency"], p["service"], p["rule"]) for p in plan.json]


def _report(client, caller, **overrides) -> str:
    response = client.post("/api/v1/cases", headers=caller.headers,
                           json=child_report(source="hotline", **overrides))
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_default_rules_are_served_in_order(client, supervisor):
    rules = client.get("/api/v1/routing-rules", headers=supervisor.headers).json
    assert [r["id"] for r in rules] == [r["id"] for r in default_rules()]
    assert rules[1] == {
        "id": "violence-medical",
        "description": "Sexual or physical violence at high risk: medical examination",
        "when": {"category": "violence", "violence_types_any": ["sexual", "physical"],
                 "risk_levels": ["high"]},
        "agency": "DINKES", "service": "medical_examination", "due_in_hours": 24,
    }


@pytest.mark.parametrize("role", ["caseworker", "rt_head", "agency_officer", "analyst", "admin"])
def test_only_supervisors_read_or_replace_rules(client, make_user, role):
    caller = make_user(role, [BALIKPAPAN] if role in ("caseworker", "rt_head", "analyst") else [],
                       "DINSOS" if role == "agency_officer" else None)
    assert client.get("/api/v1/routing-rules", headers=caller.headers).status_code == 403
    assert client.put("/api/v1/routing-rules", json=[],
                      headers=caller.headers).status_code == 403


def test_invalid_rule_set_is_refused_whole(client, supervisor):
    rules = client.get("/api/v1/routing-rules", headers=supervisor.headers).json
    broken = [*rules[:2],
              {**rules[2], "agency": "DINAS_X"},
              {**rules[3], "service": "legal_aid"},
              {**rules[4], "id": rules[0]["id"]},
              {**rules[5], "when": {"category": "violence", "welfare_decile_max": 11}},
              {**rules[6], "colour": "red"}]
    response = client.put("/api/v1/routing-rules", json=broken, headers=supervisor.headers)
    assert response.status_code == 422
    errors = response.json["errors"]
    assert {"5.when.welfare_decile_max", "6.colour"} <= set(errors)
    response = client.put("/api/v1/routing-rules", json=broken[:5], headers=supervisor.headers)
    assert set(response.json["errors"]) == {"2.agency", "3.service", "4.id"}
    assert client.get("/api/v1/routing-rules", headers=supervisor.headers).json == rules


def test_replaced_rules_drive_the_plan_of_the_citys_cases(client, supervisor,
                                                          banjarmasin_supervisor):
    toddler = {"name": "Adi", "sex": "male", "age_months": 30}
    mantuil_toddler = _report(client, banjarmasin_supervisor, village_code=MANTUIL,
                              child=toddler)
    before = _plan(client, banjarmasin_supervisor, mantuil_toddler)
    replaced = client.put(RULES, query_string={"city": BALIKPAPAN}, json=ONLY_SHELTER,
                          headers=supervisor.headers)
    assert replaced.status_code == 200, replaced.json
    assert replaced.json[0]["when"]["child_age_years"] == {"min": 0, "max": 4}
    manggar_toddler = _report(client, supervisor, child=toddler)
    older = _report(client, supervisor)
    assert _plan(client, supervisor, manggar_toddler) == [
        ("UPTD_PPA", "safe_shelter", "young-children-shelter")]
    assert _plan(client, supervisor, older) == []
    # Banjarmasin's cases are still routed by Banjarmasin's rules
    assert _plan(client, banjarmasin_supervisor, mantuil_toddler) == before
    assert ("UPTD_PPA", "psychosocial_support", "violence-protection") in before


def test_one_citys_replacement_leaves_another_citys_rules_and_plans(
        client, supervisor, banjarmasin_supervisor):
    balikpapan_rules = client.get(RULES, headers=supervisor.headers).json
    case_id = _report(client, supervisor)
    plan = _plan(client, supervisor, case_id)
    assert plan
    replaced = client.put(RULES, json=ONLY_SHELTER, headers=banjarmasin_supervisor.headers)
    assert replaced.status_code == 200, replaced.json
    assert client.get(RULES, headers=banjarmasin_supervisor.headers).json == replaced.json
    assert client.get(RULES, headers=supervisor.headers).json == balikpapan_rules
    assert _plan(client, supervisor, case_id) == plan


def test_a_supervisor_cannot_read_or_replace_another_citys_rules(client, supervisor,
                                                                 banjarmasin_supervisor):
    balikpapan = {"city": BALIKPAPAN}
    rules = client.get(RULES, query_string=balikpapan, headers=supervisor.headers).json
    read = client.get(RULES, query_string=balikpapan, headers=banjarmasin_supervisor.headers)
    assert read.status_code == 403
    replaced = client.put(RULES, query_string=balikpapan, json=ONLY_SHELTER,
                          headers=banjarmasin_supervisor.headers)
    assert replaced.status_code == 403
    assert client.get(RULES, query_string=balikpapan, headers=supervisor.headers).json == rules


def test_the_city_is_named_unless_the_callers_areas_lie_in_one(client, make_user):
    both = make_user("supervisor", [BALIKPAPAN, BANJARMASIN])
    unnamed = client.get(RULES, headers=both.headers)
    assert unnamed.status_code == 422
    assert "city" in unnamed.json["errors"]
    assert client.put(RULES, json=ONLY_SHELTER, headers=both.headers).status_code == 422
    for city in (BALIKPAPAN, BANJARMASIN):
        assert client.get(RULES, query_string={"city": city},
                          headers=both.headers).status_code == 200
    # a kecamatan lies in its city: its supervisor keeps the rules its cases are routed by
    kecamatan = make_user("supervisor", [BALIKPAPAN_TIMUR])
    assert client.get(RULES, headers=kecamatan.headers).status_code == 200
    assert client.get(RULES, query_string={"city": BANJARMASIN},
                      headers=kecamatan.headers).status_code == 403
    # a province covers its cities, and none of them alone
    province = make_user("supervisor", [BALIKPAPAN[:2]])
    assert client.get(RULES, headers=province.headers).status_code == 422
    assert client.get(RULES, query_string={"city": BALIKPAPAN},
                      headers=province.headers).status_code == 200
    assert client.get(RULES, query_string={"city": BANJARMASIN},
                      headers=province.headers).status_code == 403


@pytest.mark.parametrize(("query", "status"), [
    ({"city": "6499"}, 422), ({"city": BALIKPAPAN_TIMUR}, 422), ({"city": "64x1"}, 422),
    ({"cty": BANJARMASIN}, 422)])
def test_the_city_must_be_a_city(client, make_user, query, status):
    province = make_user("supervisor", [BALIKPAPAN[:2]])
    response = client.get(RULES, query_string=query, headers=province.headers)
    assert response.status_code == status, response.json


def test_a_city_imported_later_gets_the_default_rules(client, session, make_user, supervisor):
    assert client.put(RULES, json=ONLY_SHELTER, headers=supervisor.headers).status_code == 200
    added = import_regions(session=session, rows=[
        ("6402", "KUTAI KARTANEGARA"), ("640201", "SEMBOJA"), ("6471", "KOTA BALIKPAPAN")])
    session.commit()
    assert added.added == 2
    kukar = make_user("supervisor", ["640201"])
    rules = client.get(RULES, headers=kukar.headers).json
    assert [r["id"] for r in rules] == [r["id"] for r in default_rules()]
    # a city that has rules keeps its own
    assert [r["id"] for r in client.get(RULES, headers=supervisor.headers).json] == [
        "young-children-shelter"]


def test_the_citys_supervisors_see_a_change_of_its_rules(client, make_user, supervisor,
                                                         banjarmasin_supervisor):
    province = make_user("supervisor", [BALIKPAPAN[:2]])
    assert client.put(RULES, query_string={"city": BALIKPAPAN}, json=ONLY_SHELTER,
                      headers=province.headers).status_code == 200
    assert client.put(RULES, query_string={"city": BALIKPAPAN}, json=ONLY_SHELTER,
                      headers=banjarmasin_supervisor.headers).status_code == 403

    def rule_events(reader):
        events = client.get("/api/v1/audit-events", query_string={"subject_id": BALIKPAPAN},
                            headers=reader.headers).json
        return [(e["action"], e["actor_id"], e["subject_type"], e["outcome"]) for e in events]

    # newest first: the attempt from Banjarmasin, refused, then the change
    assert rule_events(supervisor) == [
        ("auth.denied", str(banjarmasin_supervisor.id), "city", "403"),
        ("routing_rules.replace", str(province.id), "city", "ok")]
    # Banjarmasin's supervisors see their own attempt only
    assert rule_events(banjarmasin_supervisor) == rule_events(supervisor)[:1]


def test_stunting_rules(client, supervisor):
    poor = client.post("/api/v1/cases", headers=supervisor.headers, json=stunting_report(
        source="outreach", household={"welfare_decile": 3,
                                      "economic_stressors": ["unemployment"]})).json
    plan = client.get(f"/api/v1/cases/{poor['id']}/routing-plan", headers=supervisor.headers).json
    assert [(p["agency"], p["service"]) for p in plan] == [
        ("DINKES", "nutrition_intervention"), ("DINSOS", "social_assistance"),
        ("DISKOP_UMKM", "job_training")]
    comfortable = client.post("/api/v1/cases", headers=supervisor.headers, json=stunting_report(
        source="outreach", household={"welfare_decile": 8})).json
    plan = client.get(f"/api/v1/cases/{comfortable['id']}/routing-plan",
                      headers=supervisor.headers).json
    assert [p["agency"] for p in plan] == ["DINKES"]


def test_every_role_lists_the_seeded_agencies(client, make_user):
    caller = make_user("agency_system", agency="DISDIK")
    agencies = client.get("/api/v1/agencies", headers=caller.headers).json
    assert [a["code"] for a in agencies] == ["DINKES", "DINSOS", "DISDIK", "DISKOP_UMKM",
                                             "UPTD_PPA"]
    assert next(a for a in agencies if a["code"] == "DISDIK")["services"] == ["school_support"]


def test_admin_adds_and_edits_agencies(client, make_user):
    admin = make_user("admin")
    created = client.post("/api/v1/agencies", headers=admin.headers, json={
        "code": "DPMPTSP", "name": "Dinas Penanaman Modal", "services": ["business_capital"]})
    assert created.status_code == 201, created.json
    assert client.post("/api/v1/agencies", headers=admin.headers, json={
        "code": "DPMPTSP", "name": "Again", "services": ["job_training"]}).status_code == 409
    edited = client.patch("/api/v1/agencies/DPMPTSP", headers=admin.headers,
                          json={"services": ["business_capital", "job_training"]})
    assert edited.json["services"] == ["business_capital", "job_training"]
    assert client.patch("/api/v1/agencies/NOPE", headers=admin.headers,
                        json={"name": "x y"}).status_code == 404
    bad = client.post("/api/v1/agencies", headers=admin.headers,
                      json={"code": "lower", "name": "x", "services": ["haircut"]})
    assert bad.status_code == 422
    assert {"code", "name", "services.0"} <= set(bad.json["errors"])


@pytest.mark.parametrize("role", ["supervisor", "caseworker", "agency_officer"])
def test_only_admins_change_agencies(client, make_user, role):
    caller = make_user(role, [BALIKPAPAN] if role != "agency_officer" else [],
                       "DINSOS" if role == "agency_officer" else None)
    assert client.post("/api/v1/agencies", headers=caller.headers, json={
        "code": "DPMPTSP", "name": "Dinas", "services": ["job_training"]}).status_code == 403
    assert client.patch("/api/v1/agencies/DINSOS", headers=caller.headers,
                        json={"name": "Dinas"}).status_code == 403


def test_empty_rule_set_is_refused(client, supervisor):
    response = client.put("/api/v1/routing-rules", json=[], headers=supervisor.headers)
    assert response.status_code == 422


def test_routing_to_nobody_is_409(client, supervisor):
    only_stunting = [r for r in client.get("/api/v1/routing-rules", headers=supervisor.headers
                                           ).json if r["when"]["category"] == "stunting_risk"]
    client.put("/api/v1/routing-rules", json=only_stunting, headers=supervisor.headers)
    case = client.post("/api/v1/cases", json=child_report(source="hotline"),
                       headers=supervisor.headers)
    url = f"/api/v1/cases/{case.json['id']}"
    triaged = client.post(f"{url}/triage", json={"risk_level": "low"},
                          headers={**supervisor.headers, "If-Match": case.headers["ETag"]})
    routed = client.post(f"{url}/route",
                         headers={**supervisor.headers, "If-Match": triaged.headers["ETag"]})
    assert routed.status_code == 409
    assert client.get(url, headers=supervisor.headers).json["status"] == "triaged"


def test_agency_cannot_drop_a_service_a_rule_sends_cases_to(client, make_user):
    admin = make_user("admin")
    response = client.patch("/api/v1/agencies/DINKES", headers=admin.headers, json={
        "services": ["nutrition_intervention", "growth_monitoring"]})
    assert response.status_code == 409
    assert "violence-medical" in response.json["detail"]
    assert "medical_examination" in client.get("/api/v1/agencies/DINKES",
                                               headers=admin.headers).json["services"]


def test_adding_an_agency_is_idempotent(client, make_user):
    admin = make_user("admin")
    headers = {**admin.headers, "Idempotency-Key": "add-dp3a"}
    body = {"code": "DP3A", "name": "Dinas P3A", "services": ["family_support"]}
    first = client.post("/api/v1/agencies", json=body, headers=headers)
    again = client.post("/api/v1/agencies", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert client.get(first.headers["Location"], headers=admin.headers).json["code"] == "DP3A"


def test_an_empty_agency_change_is_422(client, make_user):
    admin = make_user("admin")
    for body in ({}, None):
        response = client.patch("/api/v1/agencies/DINSOS", json=body, headers=admin.headers)
        assert response.status_code == 422


def test_upgrading_gives_each_city_a_copy_of_the_one_rule_set(connection, database_url):
    # before: one set for everybody; the downgrade keeps the first city's (Banjarmasin)
    connection.execute(text("UPDATE routing_rules SET due_in_hours = 12 WHERE city_code = "
                            f"'{BANJARMASIN}' AND id = 'violence-protection'"))
    downgrade(database_url, connection=connection, revision="d1a2b3c4d5e6")
    upgrade(database_url, connection=connection)
    cities = connection.scalars(text(
        "SELECT code FROM regions WHERE level = 'city' ORDER BY code")).all()
    stored = connection.execute(select(RoutingRule.city_code, RoutingRule.id,
                                       RoutingRule.due_in_hours)
                                .order_by(RoutingRule.city_code, RoutingRule.position)).all()
    assert [tuple(row) for row in stored] == [
        (city, rule["id"], 12 if rule["id"] == "violence-protection" else rule["due_in_hours"])
        for city in cities for rule in default_rules()]
    assert BALIKPAPAN in cities
