"""Every access leaves an audit event, sealed into the chain after it commits; nobody's
refusals are counted."""


import pytest
from sqlalchemy import select

from api import create_app
from api.audit.models import AnonymousRefusalCount, AuditEvent
from tests.conftest import BALIKPAPAN, BANJARMASIN, LAMARU, MANGGAR, child_report


def _events(session, **where):
    query = select(AuditEvent).order_by(AuditEvent.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return session.scalars(query).all()


def test_reads_writes_and_lists_are_recorded(client, session, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    created = client.post("/api/v1/cases", json=child_report(source="hotline"),
                          headers={**staff.headers, "X-Request-ID": "req-1"}).json
    client.get(f"/api/v1/cases/{created['id']}", headers=staff.headers)
    client.get("/api/v1/cases?status=reported&q=Budi", headers=staff.headers)
    create, read, listing = (_events(session, action=a)[-1]
                             for a in ("case.create", "case.read", "case.list"))
    assert (create.subject_type, create.subject_id) == ("case", created["id"])
    assert create.request_id == "req-1" and create.client_ip
    assert (read.actor_id, read.actor_role, read.outcome) == (staff.id, "caseworker", "ok")
    # a list read names what it showed: each case, and each child of the full view
    assert listing.details == {"status": "reported", "q": "Budi", "shown": {
        "case": [created["id"]], "child": [created["child"]["id"]]}}


def test_refusals_are_recorded_although_nothing_else_is(client, session, make_user):
    agency = make_user("agency_system", agency="DINSOS")
    other = make_user("caseworker", [BANJARMASIN])
    staff = make_user("caseworker", [BALIKPAPAN])
    case = client.post("/api/v1/cases", json=child_report(source="hotline"),
                       headers=staff.headers).json
    assert client.get("/api/v1/cases", headers=agency.headers).status_code == 403
    assert client.get(f"/api/v1/cases/{case['id']}", headers=other.headers).status_code == 404
    assert client.get("/api/v1/cases", headers={"Authorization": "Bearer lnd_x"}
                      ).status_code == 401
    denied = _events(session, action="auth.denied")
    assert [(e.actor_role, e.outcome) for e in denied] == [("agency_system", "403")]
    # nobody could be named: counted per source and hour, not an event each
    [counted] = session.scalars(select(AnonymousRefusalCount)).all()
    assert (counted.source, counted.refusals) == ("127.0.0.1", 1)
    missing = _events(session, action="not_found")[-1]
    assert (missing.actor_id, missing.subject_id) == (other.id, case["id"])


def test_agency_system_token_use_and_export_are_recorded(client, session, make_user):
    agency = make_user("agency_system", agency="DINSOS")
    client.get("/api/v1/referrals", headers=agency.headers)
    assert _events(session, action="referral.list")[-1].agency == "DINSOS"
    supervisor = make_user("supervisor", [BALIKPAPAN])
    client.get("/api/v1/stats/kla?area=647101&format=csv", headers=supervisor.headers)
    assert _events(session, action="export")[-1].actor_id == supervisor.id


@pytest.mark.parametrize(("role", "status"), [("supervisor", 200), ("admin", 200),
                                              ("caseworker", 403), ("analyst", 403),
                                              ("agency_officer", 403), ("rt_head", 403)])
def test_who_reads_the_audit_trail(client, make_user, role, status):
    caller = make_user(role, [MANGGAR] if role not in ("admin", "agency_officer") else [],
                       "DINSOS" if role == "agency_officer" else None)
    assert client.get("/api/v1/audit-events", headers=caller.headers).status_code == status


def test_audit_events_filter(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    supervisor = make_user("supervisor", [BALIKPAPAN])
    case = client.post("/api/v1/cases", json=child_report(source="hotline"),
                       headers=staff.headers).json
    mine = client.get("/api/v1/audit-events", headers=supervisor.headers, query_string={
        "actor_id": str(staff.id), "subject_id": case["id"]}).json
    assert [e["action"] for e in mine] == ["case.create"]
    # the request sealed its own event as it ended
    assert mine[0]["seq"] >= 1 and mine[0]["hash"] and mine[0]["prev_hash"]


def test_admin_learns_that_a_search_was_made_but_not_for_whom(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    client.get("/api/v1/cases", query_string={"q": "Budi", "status": "reported"},
               headers=staff.headers)
    query = {"actor_id": str(staff.id), "action": "case.list"}
    for role, shown in (("supervisor", "Budi"), ("admin", "withheld")):
        reader = make_user(role, [BALIKPAPAN] if role == "supervisor" else [])
        [event] = client.get("/api/v1/audit-events", query_string=query,
                             headers=reader.headers).json
        assert event["details"] == {"q": shown, "status": "reported"}


def test_child_access_log_names_who_saw_the_childs_cases(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    supervisor = make_user("supervisor", [BALIKPAPAN])
    case = client.post("/api/v1/cases", json=child_report(source="hotline"),
                       headers=staff.headers).json
    client.get(f"/api/v1/cases/{case['id']}", headers=staff.headers)
    log = client.get(f"/api/v1/children/{case['child']['id']}/access-log",
                     headers=supervisor.headers).json
    assert [e["action"] for e in log] == ["case.read", "case.create"]  # newest first
    assert {e["actor_id"] for e in log} == {str(staff.id)}
    assert client.get(f"/api/v1/children/{case['child']['id']}/access-log",
                      headers=staff.headers).status_code == 403


def test_audit_verify_command(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from api.cli import main

    monkeypatch.setenv("LINDUNG_DATABASE_URL", f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    runner = CliRunner()
    runner.invoke(main, ["demo"])
    from api import create_app

    app = create_app()
    token = [line.split()[2] for line in runner.invoke(main, ["demo"]).output.splitlines()
             if "demo_caseworker " in line][0]
    for _ in range(3):
        app.test_client().get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    import sqlite3

    with sqlite3.connect(tmp_path / "audit.sqlite3") as raw:
        raw.execute("UPDATE audit_events SET client_ip = '10.0.0.1' WHERE id = 2")
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert "event 2" in result.output


def test_a_list_read_is_in_the_access_log_of_each_child_it_showed(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    supervisor = make_user("supervisor", [BALIKPAPAN])
    dinsos = make_user("agency_officer", agency="DINSOS")
    case = client.post("/api/v1/cases", json=child_report(source="hotline"),
                       headers=staff.headers).json
    url = f"/api/v1/cases/{case['id']}"
    etag = client.get(url, headers=staff.headers).headers["ETag"]
    etag = client.post(f"{url}/triage", json={"risk_level": "high"},
                       headers={**staff.headers, "If-Match": etag}).headers["ETag"]
    routed = client.post(f"{url}/route", headers={**staff.headers, "If-Match": etag})
    assert routed.status_code == 200
    assert case["id"] in {c["id"] for c in client.get(
        "/api/v1/cases", query_string={"page_size": 100}, headers=staff.headers).json}
    assert client.get("/api/v1/referrals", headers=dinsos.headers).json
    log = client.get(f"/api/v1/children/{case['child']['id']}/access-log",
                     headers=supervisor.headers).json
    actions = {(e["action"], e["actor_id"]) for e in log}
    assert ("case.list", str(staff.id)) in actions
    assert ("referral.list", str(dinsos.id)) in actions
    by_subject = client.get("/api/v1/audit-events", query_string={
        "subject_id": case["child"]["id"], "action": "case.list"},
        headers=supervisor.headers).json
    assert [e["actor_id"] for e in by_subject] == [str(staff.id)]


def test_a_weighing_is_in_the_access_log_of_its_child(client, make_user):
    cadre = make_user("posyandu_cadre", [LAMARU])
    supervisor = make_user("supervisor", [BALIKPAPAN])
    weighing = client.post("/api/v1/measurements", headers=cadre.headers, json={
        "child": {"name": "Putri Log", "sex": "female", "birth_date": "2025-11-02",
                  "village_code": LAMARU},
        "measured_on": "2026-11-02", "weight_kg": 7.0, "height_cm": 64.0,
        "position": "lying"}).json
    log = client.get(f"/api/v1/children/{weighing['child_id']}/access-log",
                     headers=supervisor.headers).json
    assert ("measurement.create", str(cadre.id)) in {(e["action"], e["actor_id"]) for e in log}


def test_readers_of_the_audit_trail_see_how_many_a_list_showed_not_which(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    client.post("/api/v1/cases", json=child_report(source="hotline"), headers=staff.headers)
    client.get("/api/v1/cases", headers=staff.headers)
    for role in ("supervisor", "admin"):
        reader = make_user(role, [BALIKPAPAN] if role == "supervisor" else [])
        [event] = client.get("/api/v1/audit-events", query_string={
            "actor_id": str(staff.id), "action": "case.list"}, headers=reader.headers).json
        assert event["details"]["shown"] == {"case": 1, "child": 1}


@pytest.mark.parametrize("hops, recorded", [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_the_client_address_behind_the_configured_proxies_is_recorded(
        connection, database_url, session, make_user, hops, recorded):
    # with LINDUNG_PROXY_HOPS the client's address counts, not the proxy's; without it a
    # forwarded address (anyone can send the header) is not believed
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "PROXY_HOPS": hops},
                     bind=connection)
    staff = make_user("caseworker", [BALIKPAPAN])
    app.test_client().get("/api/v1/me", headers={**staff.headers,
                                                 "X-Forwarded-For": "203.0.113.9"})
    assert _events(session, actor_id=staff.id)[-1].client_ip == recorded
