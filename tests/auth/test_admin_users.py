"""Users and tokens managed by an admin: GET/POST /users, POST /users/{id}/tokens (machine
accounts and the admin only), DELETE /tokens/{id}."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from api.auth.models import ApiToken
from api.vocabularies.codes import Role
from tests.conftest import BALIKPAPAN, MANGGAR, child_report


@pytest.fixture
def admin(make_user):
    return make_user("admin")


def test_admin_adds_a_machine_account_and_issues_a_token_that_works(client, admin):
    created = client.post("/api/v1/users", headers=admin.headers, json={
        "username": "dinsos.sync", "role": "agency_system", "agency": "DINSOS"})
    assert created.status_code == 201, created.json
    assert created.json["agency"] == "DINSOS" and created.json["active"] is True
    issued = client.post(f"/api/v1/users/{created.json['id']}/tokens", json={},
                         headers=admin.headers)
    assert issued.status_code == 201
    token = issued.json["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json["username"] == "dinsos.sync"
    usernames = [u["username"] for u in client.get("/api/v1/users?page_size=100",
                                                  headers=admin.headers).json]
    assert "dinsos.sync" in usernames
    assert all("token" not in u and "password_hash" not in u
               for u in client.get("/api/v1/users", headers=admin.headers).json)


def test_revoked_token_is_refused_at_once(client, admin):
    user = client.post("/api/v1/users", headers=admin.headers, json={
        "username": "dinkes.sys", "role": "agency_system", "agency": "DINKES"}).json
    issued = client.post(f"/api/v1/users/{user['id']}/tokens", json={},
                         headers=admin.headers).json
    bearer = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get("/api/v1/referrals", headers=bearer).status_code == 200
    revoked = client.delete(f"/api/v1/tokens/{issued['id']}", headers=admin.headers)
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    assert client.get("/api/v1/referrals", headers=bearer).status_code == 401


def test_token_with_expiry(client, admin):
    user = client.post("/api/v1/users", headers=admin.headers, json={
        "username": "dinsos.sys", "role": "agency_system", "agency": "DINSOS"}).json
    soon = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    issued = client.post(f"/api/v1/users/{user['id']}/tokens", json={"expires_at": soon},
                         headers=admin.headers)
    assert issued.json["expires_at"]
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    refused = client.post(f"/api/v1/users/{user['id']}/tokens", json={"expires_at": past},
                          headers=admin.headers)
    assert refused.status_code == 422 and "expires_at" in refused.json["errors"]


@pytest.mark.parametrize(("body", "field"), [
    ({"username": "x", "role": "rt_head", "area_codes": [MANGGAR]}, "username"),
    ({"username": "abc", "role": "mayor"}, "role"),
    ({"username": "abc", "role": "caseworker"}, "area_codes"),
    ({"username": "abc", "role": "agency_officer", "agency": "NOPE"}, "agency"),
    ({"username": "abc", "role": "rt_head", "area_codes": [MANGGAR], "password": "x"},
     "password"),
])
def test_bad_user_is_422(client, admin, body, field):
    response = client.post("/api/v1/users", json=body, headers=admin.headers)
    assert response.status_code == 422
    assert field in response.json["errors"]


@pytest.mark.parametrize("role", ["supervisor", "caseworker", "rt_head", "agency_system",
                                  "analyst"])
def test_only_admins_manage_users_and_tokens(client, make_user, admin, role):
    caller = make_user(role, [BALIKPAPAN] if role not in ("agency_system",) else [],
                       "DINKES" if role == "agency_system" else None)
    # supervisors read the accounts of the people working in their areas, nothing more
    assert client.get("/api/v1/users", headers=caller.headers).status_code == (
        200 if role == "supervisor" else 403)
    assert client.post("/api/v1/users", json={"username": "abc", "role": "admin"},
                       headers=caller.headers).status_code == 403
    assert client.post(f"/api/v1/users/{caller.id}/tokens", json={},
                       headers=caller.headers).status_code == 403
    assert client.delete("/api/v1/tokens/00000000-0000-0000-0000-000000000000",
                         headers=caller.headers).status_code == 403


def test_unknown_user_or_token_is_404(client, admin):
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.post(f"/api/v1/users/{missing}/tokens", json={},
                       headers=admin.headers).status_code == 404
    assert client.delete(f"/api/v1/tokens/{missing}", headers=admin.headers).status_code == 404


def test_a_token_needs_no_body(client, admin):
    user = client.post("/api/v1/users", headers=admin.headers, json={
        "username": "disdik.sys", "role": "agency_system", "agency": "DISDIK"}).json
    issued = client.post(f"/api/v1/users/{user['id']}/tokens", headers=admin.headers)
    assert issued.status_code == 201 and issued.json["expires_at"] is None


PEOPLE = [role for role in Role if role is not Role.AGENCY_SYSTEM]


@pytest.mark.parametrize("role", PEOPLE, ids=[role.value for role in PEOPLE])
def test_admin_issues_no_token_for_a_person(client, session, make_user, admin, role):
    """A token for a person would let the admin act, and read case content, in their name."""
    person = make_user(role, [] if role in (Role.ADMIN, Role.AGENCY_OFFICER) else [BALIKPAPAN],
                       "DINSOS" if role is Role.AGENCY_OFFICER else None)
    tokens_before = session.scalar(select(func.count()).select_from(ApiToken))
    refused = client.post(f"/api/v1/users/{person.id}/tokens", json={}, headers=admin.headers)
    assert refused.status_code == 403
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert "machine accounts" in refused.json["detail"]
    assert f"(here: {role.value}) logs in with their own password" in refused.json["detail"]
    assert session.scalar(select(func.count()).select_from(ApiToken)) == tokens_before


def test_admin_cannot_read_a_case_as_its_supervisor(client, make_user, admin):
    """The hole: an admin issued a supervisor's token and read a case's narrative and NIK,
    attributed to the supervisor."""
    supervisor = make_user("supervisor", [BALIKPAPAN])
    case = client.post("/api/v1/cases", headers=supervisor.headers, json=child_report(
        source="hotline", child={"name": "Budi Santoso", "sex": "male",
                                 "birth_date": "2017-05-04", "nik": "6471010405170001"}))
    assert case.status_code == 201, case.json
    issued = client.post(f"/api/v1/users/{supervisor.id}/tokens", json={},
                         headers=admin.headers)
    assert issued.status_code == 403 and "token" not in issued.json
    read = client.get(f"/api/v1/cases/{case.json['id']}", headers=admin.headers)
    assert read.status_code == 403
    assert "6471010405170001" not in read.get_data(as_text=True)


def test_admin_issues_a_token_for_themselves(client, admin):
    issued = client.post(f"/api/v1/users/{admin.id}/tokens", json={}, headers=admin.headers)
    assert issued.status_code == 201
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued.json['token']}"})
    assert me.json["id"] == str(admin.id)


def test_supervisor_lists_the_people_of_their_areas_without_their_contacts(
        client, make_user, admin):
    created = client.post("/api/v1/users", headers=admin.headers, json={
        "username": "pekerja.manggar", "role": "caseworker", "area_codes": [MANGGAR],
        "email": "pekerja@example.org", "phone": "+6281234567890"})
    assert created.status_code == 201, created.json
    supervisor = make_user("supervisor", [BALIKPAPAN])
    listed = {u["username"]: u for u in client.get(
        "/api/v1/users?page_size=100", headers=supervisor.headers).json}
    assert listed["pekerja.manggar"]["email"] is None
    assert listed["pekerja.manggar"]["phone"] is None
    by_admin = {u["username"]: u for u in client.get(
        "/api/v1/users?page_size=100", headers=admin.headers).json}
    assert by_admin["pekerja.manggar"]["email"] == "pekerja@example.org"
