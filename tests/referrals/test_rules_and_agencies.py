"""The routing rule set as data (GET/PUT /routing-rules) and the agencies (/agencies)."""

import pytest

from api.referrals.routing import default_rules
from tests.conftest import BALIKPAPAN, child_report, stunting_report


@pytest.fixture
def supervisor(make_user):
    return make_user("supervisor", [BALIKPAPAN])


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


def test_replaced_rules_drive_the_plan(client, supervisor):
    only_shelter = [{
        "id": "young-children-shelter", "description": "Under-fives: safe shelter",
        "when": {"category": "violence", "child_age_years": {"max": 4}},
        "agency": "UPTD_PPA", "service": "safe_shelter", "due_in_hours": 2,
    }]
    replaced = client.put("/api/v1/routing-rules", json=only_shelter, headers=supervisor.headers)
    assert replaced.status_code == 200, replaced.json
    assert replaced.json[0]["when"]["child_age_years"] == {"min": 0, "max": 4}
    toddler = client.post("/api/v1/cases", headers=supervisor.headers, json=child_report(
        source="hotline", child={"name": "Adi", "sex": "male", "age_months": 30})).json
    older = client.post("/api/v1/cases", headers=supervisor.headers,
                        json=child_report(source="hotline")).json
    plan = client.get(f"/api/v1/cases/{toddler['id']}/routing-plan",
                      headers=supervisor.headers).json
    assert [(p["agency"], p["service"], p["rule"]) for p in plan] == [
        ("UPTD_PPA", "safe_shelter", "young-children-shelter")]
    assert client.get(f"/api/v1/cases/{older['id']}/routing-plan",
                      headers=supervisor.headers).json == []


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
