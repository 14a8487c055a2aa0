"""Referral isolation between agencies, workflow rules, overdue flags and the sync cursor."""

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from api.db import utcnow
from api.referrals.models import Referral
from tests.conftest import BALIKPAPAN, BANJARMASIN, MANGGAR, child_report

FORBIDDEN_IN_AGENCY_VIEW = {"reporter", "description", "perpetrator_relation", "source",
                            "incident_place", "incident_date", "possible_duplicates", "nik"}


def _etag(client, caller, url):
    return client.get(url, headers=caller.headers).headers["ETag"]


def _act(client, caller, url, body, resource_url):
    return client.post(url, json=body,
                       headers={**caller.headers, "If-Match": _etag(client, caller, resource_url)})


@pytest.fixture
def worker(make_user):
    return make_user("caseworker", [BALIKPAPAN])


@pytest.fixture
def dinsos(make_user):
    return make_user("agency_officer", agency="DINSOS")


@pytest.fixture
def dinkes(make_user):
    return make_user("agency_system", agency="DINKES")


@pytest.fixture
def routed_case(client, worker):
    """A high-risk case of physical violence, triaged and routed (five referrals)."""
    case = client.post("/api/v1/cases", json=child_report(source="hotline"),
                       headers=worker.headers).json
    url = f"/api/v1/cases/{case['id']}"
    assert _act(client, worker, f"{url}/triage", {"risk_level": "high"}, url).status_code == 200
    assert _act(client, worker, f"{url}/route", None, url).status_code == 200
    return case


def _referral_of(client, caller, agency_code, case_id):
    listed = client.get("/api/v1/referrals", query_string={"case_id": case_id},
                        headers=caller.headers).json
    return next(r for r in listed if r["agency"] == agency_code)


def test_agency_sees_only_its_own_referrals(client, routed_case, dinsos, dinkes, worker):
    dinsos_referral = _referral_of(client, worker, "DINSOS", routed_case["id"])
    assert [r["agency"] for r in client.get("/api/v1/referrals", headers=dinsos.headers).json] \
        == ["DINSOS"]
    assert client.get("/api/v1/referrals?agency=DINSOS", headers=dinkes.headers).json == []
    url = f"/api/v1/referrals/{dinsos_referral['id']}"
    assert client.get(url, headers=dinkes.headers).status_code == 404
    response = client.post(f"{url}/transitions", json={"to": "accepted"},
                           headers={**dinkes.headers, "If-Match": '"anything"'})
    assert response.status_code == 404
    assert client.get(url, headers=dinsos.headers).json["status"] == "pending"


def test_agency_view_never_holds_reporter_narrative_or_perpetrator(client, routed_case, dinsos):
    referral = client.get("/api/v1/referrals", headers=dinsos.headers).json[0]
    single = client.get(f"/api/v1/referrals/{referral['id']}", headers=dinsos.headers).json

    def keys(value):
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        return set()

    for body in (referral, single):
        assert not keys(body) & FORBIDDEN_IN_AGENCY_VIEW
        assert "Bruises" not in str(body)
        assert body["case"]["household"]["economic_stressors"] == ["unemployment"]


def test_agencies_may_not_read_cases(client, routed_case, dinsos):
    assert client.get(f"/api/v1/cases/{routed_case['id']}", headers=dinsos.headers
                      ).status_code == 403
    assert client.get(f"/api/v1/cases/{routed_case['id']}/timeline", headers=dinsos.headers
                      ).status_code == 403


@pytest.mark.parametrize("role", ["rt_head", "teacher", "posyandu_cadre", "analyst", "admin"])
def test_reporters_analysts_and_admins_see_no_referral(client, make_user, routed_case, worker,
                                                       role):
    caller = make_user(role, [MANGGAR] if role != "admin" else [])
    referral = _referral_of(client, worker, "DINSOS", routed_case["id"])
    assert client.get("/api/v1/referrals", headers=caller.headers).status_code == 403
    assert client.get(f"/api/v1/referrals/{referral['id']}",
                      headers=caller.headers).status_code == 403
    for path in ("routing-plan", "timeline"):
        assert client.get(f"/api/v1/cases/{routed_case['id']}/{path}",
                          headers=caller.headers).status_code == 403


def test_caseworker_of_another_city_sees_no_referral(client, make_user, routed_case):
    other = make_user("caseworker", [BANJARMASIN])
    assert client.get("/api/v1/referrals", headers=other.headers).json == []


def test_routing_twice_creates_no_duplicate(client, routed_case, worker):
    url = f"/api/v1/cases/{routed_case['id']}"
    again = _act(client, worker, f"{url}/route", None, url)
    assert again.status_code == 200
    listed = client.get("/api/v1/referrals", query_string={"case_id": routed_case["id"]},
                        headers=worker.headers).json
    assert len(listed) == 5
    plan = client.get(f"{url}/routing-plan", headers=worker.headers).json
    assert all(item["open_referral_id"] for item in plan)


def test_routing_with_a_stale_etag_is_refused(client, routed_case, worker):
    url = f"/api/v1/cases/{routed_case['id']}"
    stale = _etag(client, worker, url)
    assert _act(client, worker, f"{url}/transitions", {"to": "closed", "reason": "x"},
                url).status_code == 422  # nothing changed, etag still fresh
    _act(client, worker, f"{url}/triage", {"risk_level": "medium"}, url)
    response = client.post(f"{url}/route", headers={**worker.headers, "If-Match": stale})
    assert response.status_code == 412


def test_actions_need_if_match(client, routed_case, worker, dinsos):
    url = f"/api/v1/cases/{routed_case['id']}"
    assert client.post(f"{url}/triage", json={"risk_level": "low"},
                       headers=worker.headers).status_code == 428
    assert client.post(f"{url}/route", headers=worker.headers).status_code == 428
    referral = client.get("/api/v1/referrals", headers=dinsos.headers).json[0]
    assert client.post(f"/api/v1/referrals/{referral['id']}/transitions",
                       json={"to": "accepted"}, headers=dinsos.headers).status_code == 428


def test_route_before_triage_is_409(client, worker):
    case = client.post("/api/v1/cases", json=child_report(source="hotline"),
                       headers=worker.headers).json
    url = f"/api/v1/cases/{case['id']}"
    response = _act(client, worker, f"{url}/route", None, url)
    assert response.status_code == 409
    assert response.headers["Content-Type"] == "application/problem+json"


def test_decline_needs_a_reason_and_flags_the_case(client, routed_case, worker, dinsos):
    referral = client.get("/api/v1/referrals", headers=dinsos.headers).json[0]
    url = f"/api/v1/referrals/{referral['id']}"
    missing = _act(client, dinsos, f"{url}/transitions", {"to": "declined"}, url)
    assert missing.status_code == 422 and "reason" in missing.json["errors"]
    declined = _act(client, dinsos, f"{url}/transitions",
                    {"to": "declined", "reason": "Family already receives PKH."}, url)
    assert declined.status_code == 200
    assert declined.json["reason"] == "Family already receives PKH."
    case = client.get(f"/api/v1/cases/{routed_case['id']}", headers=worker.headers).json
    assert case["needs_attention"] is True
    flagged = client.get("/api/v1/cases?needs_attention=true", headers=worker.headers).json
    assert [c["id"] for c in flagged] == [routed_case["id"]]


def test_each_side_moves_only_its_own_steps(client, routed_case, worker, dinsos):
    referral = client.get("/api/v1/referrals", headers=dinsos.headers).json[0]
    url = f"/api/v1/referrals/{referral['id']}"
    assert _act(client, worker, f"{url}/transitions", {"to": "accepted"}, url).status_code == 409
    assert _act(client, dinsos, f"{url}/transitions", {"to": "cancelled", "reason": "x"},
                url).status_code == 409
    assert _act(client, dinsos, f"{url}/transitions", {"to": "completed", "outcome": "x"},
                url).status_code == 409  # not accepted yet
    cancelled = _act(client, worker, f"{url}/transitions",
                     {"to": "cancelled", "reason": "Handled by the school."}, url)
    assert cancelled.status_code == 200
    assert _act(client, dinsos, f"{url}/transitions", {"to": "accepted"}, url).status_code == 409


def test_complete_needs_an_outcome(client, routed_case, dinsos):
    referral = client.get("/api/v1/referrals", headers=dinsos.headers).json[0]
    url = f"/api/v1/referrals/{referral['id']}"
    _act(client, dinsos, f"{url}/transitions", {"to": "accepted"}, url)
    started = _act(client, dinsos, f"{url}/transitions", {"to": "in_progress"}, url)
    assert started.json["status"] == "in_progress"
    response = _act(client, dinsos, f"{url}/transitions", {"to": "completed"}, url)
    assert response.status_code == 422 and "outcome" in response.json["errors"]


def test_overdue_acceptance_is_listed_and_flags_the_case(client, session, routed_case, worker,
                                                         dinsos):
    session.execute(update(Referral).where(Referral.agency_code == "DINSOS")
                    .values(due_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    late = client.get("/api/v1/referrals?overdue=true", headers=worker.headers).json
    assert [r["agency"] for r in late] == ["DINSOS"]
    assert late[0]["overdue"] is True
    assert client.get("/api/v1/referrals?overdue=true", headers=dinsos.headers).json[0]["id"] \
        == late[0]["id"]
    case = client.get(f"/api/v1/cases/{routed_case['id']}", headers=worker.headers).json
    assert case["needs_attention"] is True


def test_case_overdue_for_triage_and_for_response(client, session, worker):
    from api.cases.models import Case

    first = client.post("/api/v1/cases", json=child_report(source="hotline"),
                        headers=worker.headers).json
    assert client.get("/api/v1/cases?overdue=true", headers=worker.headers).json == []
    session.execute(update(Case).values(triage_due_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    assert [c["id"] for c in client.get("/api/v1/cases?overdue=true",
                                        headers=worker.headers).json] == [first["id"]]
    url = f"/api/v1/cases/{first['id']}"
    triaged = _act(client, worker, f"{url}/triage", {"risk_level": "high"}, url).json
    assert triaged["overdue"] is False  # response due one hour after triage
    session.execute(update(Case).values(response_due_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    assert client.get(url, headers=worker.headers).json["overdue"] is True
    assert client.get("/api/v1/cases?overdue=false", headers=worker.headers).json == []


def test_closing_with_open_referrals_is_409(client, routed_case, worker):
    url = f"/api/v1/cases/{routed_case['id']}"
    response = _act(client, worker, f"{url}/transitions", {"to": "closed", "reason": "resolved"},
                    url)
    assert response.status_code == 409


def test_close_needs_a_closure_reason_and_only_a_supervisor_reopens(client, make_user, worker):
    supervisor = make_user("supervisor", [BALIKPAPAN])
    case = client.post("/api/v1/cases", json=child_report(source="hotline"),
                       headers=worker.headers).json
    url = f"/api/v1/cases/{case['id']}"
    bad = _act(client, worker, f"{url}/transitions", {"to": "closed", "reason": "bored"}, url)
    assert bad.status_code == 422 and "reason" in bad.json["errors"]
    closed = _act(client, worker, f"{url}/transitions", {"to": "closed", "reason": "unfounded"},
                  url)
    assert closed.json["closure_reason"] == "unfounded"
    assert _act(client, worker, f"{url}/transitions", {"to": "triaged"}, url).status_code == 403
    assert _act(client, worker, f"{url}/triage", {"risk_level": "low"}, url).status_code == 409
    never_triaged = _act(client, supervisor, f"{url}/transitions", {"to": "triaged"}, url)
    assert never_triaged.status_code == 409
    reopened = _act(client, supervisor, f"{url}/transitions",
                    {"to": "reported", "reason": "New evidence from school."}, url)
    assert reopened.status_code == 200
    assert reopened.json["status"] == "reported" and reopened.json["closure_reason"] is None


@pytest.mark.parametrize(("start", "target"), [("reported", "referred"),
                                               ("reported", "in_service"),
                                               ("reported", "monitoring"),
                                               ("reported", "reported")])
def test_illegal_case_transitions_are_409(client, worker, start, target):
    case = client.post("/api/v1/cases", json=child_report(source="hotline"),
                       headers=worker.headers).json
    url = f"/api/v1/cases/{case['id']}"
    response = _act(client, worker, f"{url}/transitions", {"to": target}, url)
    assert response.status_code == 409
    assert client.get(url, headers=worker.headers).json["status"] == start


def test_manual_referral(client, routed_case, worker):
    url = f"/api/v1/cases/{routed_case['id']}/referrals"
    created = client.post(url, json={"agency": "UPTD_PPA", "service": "legal_aid",
                                     "note": "Family wants to file a police report."},
                          headers=worker.headers)
    assert created.status_code == 201, created.json
    assert created.json["rule"] is None and created.json["status"] == "pending"
    again = client.post(url, json={"agency": "UPTD_PPA", "service": "legal_aid"},
                        headers=worker.headers)
    assert again.status_code == 409
    wrong = client.post(url, json={"agency": "DISDIK", "service": "legal_aid"},
                        headers=worker.headers)
    assert wrong.status_code == 422 and "service" in wrong.json["errors"]


def test_sync_cursor_delivers_each_change_once(client, routed_case, worker, dinsos):
    first = client.get("/api/v1/referrals", headers=dinsos.headers)
    cursor = first.json and __import__("json").loads(first.headers["X-Pagination"])["next_cursor"]
    assert len(first.json) == 1
    quiet = client.get("/api/v1/referrals", query_string={"cursor": cursor},
                       headers=dinsos.headers)
    assert quiet.json == []
    still = __import__("json").loads(quiet.headers["X-Pagination"])["next_cursor"]
    url = f"/api/v1/referrals/{first.json[0]['id']}"
    _act(client, dinsos, f"{url}/transitions", {"to": "accepted"}, url)
    for at in (cursor, still):  # a quiet page's cursor stands where the last one stood
        changed = client.get("/api/v1/referrals", query_string={"cursor": at},
                             headers=dinsos.headers).json
        assert [(r["id"], r["status"]) for r in changed] == [(first.json[0]["id"], "accepted")]


def test_a_sync_cursor_is_opaque_and_the_callers_own(client, session, routed_case, make_user,
                                                     dinsos):
    import json

    first = client.get("/api/v1/referrals", headers=dinsos.headers)
    cursor = json.loads(first.headers["X-Pagination"])["next_cursor"]
    position = str(session.scalar(
        select(Referral.sync_seq).where(Referral.id == uuid.UUID(first.json[0]["id"]))))
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert f":{position}".encode() not in raw  # sealed, not merely encoded
    colleague = make_user("agency_system", agency="DINSOS")
    refused = client.get("/api/v1/referrals", query_string={"cursor": cursor},
                         headers=colleague.headers)
    assert refused.status_code == 422 and "cursor" in refused.json["errors"]
    forged = client.get("/api/v1/referrals", query_string={"cursor": cursor[:-4] + "AAAA"},
                        headers=dinsos.headers)
    assert forged.status_code == 422


def test_worker_pages_through_referrals_with_the_cursor(client, routed_case, worker):
    import json

    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/referrals", query_string={"page_size": 2, "cursor": cursor},
                          headers=worker.headers)
        if not page.json:
            break
        seen += [r["id"] for r in page.json]
        cursor = json.loads(page.headers["X-Pagination"])["next_cursor"]
    assert len(seen) == len(set(seen)) == 5


def test_referral_rows_hold_one_open_referral_per_service(session, routed_case):
    rows = session.execute(select(Referral.agency_code, Referral.service)).all()
    assert len(rows) == len(set(rows)) == 5


def test_a_change_of_the_case_reaches_the_agencies(client, routed_case, worker, dinsos):
    import json

    first = client.get("/api/v1/referrals", headers=dinsos.headers)
    cursor = json.loads(first.headers["X-Pagination"])["next_cursor"]
    url = f"/api/v1/referrals/{first.json[0]['id']}"
    etag = client.get(url, headers=dinsos.headers).headers["ETag"]
    case_url = f"/api/v1/cases/{routed_case['id']}"
    assert _act(client, worker, f"{case_url}/triage", {"risk_level": "low", "emergency": True},
                case_url).status_code == 200
    changed = client.get("/api/v1/referrals", query_string={"cursor": cursor},
                         headers=dinsos.headers).json
    assert [r["case"]["emergency"] for r in changed] == [True]
    assert client.get(url, headers={**dinsos.headers, "If-None-Match": etag}).status_code == 200


def test_retriage_keeps_a_decline_flag_until_someone_refers_again(client, routed_case, worker,
                                                                  dinsos):
    referral = client.get("/api/v1/referrals", headers=dinsos.headers).json[0]
    url = f"/api/v1/referrals/{referral['id']}"
    _act(client, dinsos, f"{url}/transitions", {"to": "declined", "reason": "Not eligible."}, url)
    case_url = f"/api/v1/cases/{routed_case['id']}"
    retriaged = _act(client, worker, f"{case_url}/triage", {"risk_level": "medium"}, case_url)
    assert retriaged.json["needs_attention"] is True
    created = client.post(f"{case_url}/referrals", headers=worker.headers,
                          json={"agency": "UPTD_PPA", "service": "family_support"})
    assert created.status_code == 201
    assert client.get(case_url, headers=worker.headers).json["needs_attention"] is False


def test_closed_case_needs_no_attention(client, routed_case, worker, dinsos):
    case_url = f"/api/v1/cases/{routed_case['id']}"
    referrals = client.get("/api/v1/referrals", query_string={"case_id": routed_case["id"]},
                           headers=worker.headers).json
    for referral in referrals:
        url = f"/api/v1/referrals/{referral['id']}"
        if referral["agency"] == "DINSOS":
            _act(client, dinsos, f"{url}/transitions", {"to": "declined", "reason": "No."}, url)
        else:
            _act(client, worker, f"{url}/transitions", {"to": "cancelled", "reason": "x"}, url)
    closed = _act(client, worker, f"{case_url}/transitions",
                  {"to": "closed", "reason": "transferred_out"}, case_url)
    assert closed.status_code == 200
    assert closed.json["needs_attention"] is False


def test_timeline_keeps_outcome_and_external_reference(client, routed_case, worker, dinsos):
    referral = client.get("/api/v1/referrals", headers=dinsos.headers).json[0]
    url = f"/api/v1/referrals/{referral['id']}"
    _act(client, dinsos, f"{url}/transitions", {"to": "accepted", "external_reference": "SOS-9"},
         url)
    _act(client, dinsos, f"{url}/transitions", {"to": "completed", "outcome": "PKH enrolled."},
         url)
    steps = client.get(f"/api/v1/cases/{routed_case['id']}/timeline", headers=worker.headers).json
    details = [s["details"] for s in steps if s["referral_id"] == referral["id"]]
    assert details[-2]["external_reference"] == "SOS-9"
    assert details[-1]["outcome"] == "PKH enrolled."


def test_route_takes_no_body_and_referrals_take_no_page(client, routed_case, worker):
    url = f"/api/v1/cases/{routed_case['id']}"
    response = _act(client, worker, f"{url}/route", {"agencies": ["DINSOS"]}, url)
    assert response.status_code == 422 and "agencies" in response.json["errors"]
    assert client.get("/api/v1/referrals?page=2", headers=worker.headers).status_code == 422


def test_first_acceptance_is_kept_on_the_case(client, session, routed_case, dinsos, dinkes):
    import uuid as uuid_module

    from api.cases.models import Case

    for agency in (dinsos, dinkes):
        referral = client.get("/api/v1/referrals", headers=agency.headers).json[0]
        url = f"/api/v1/referrals/{referral['id']}"
        _act(client, agency, f"{url}/transitions", {"to": "accepted"}, url)
    accepted = sorted(r.accepted_at for r in session.scalars(select(Referral)) if r.accepted_at)
    case = session.get(Case, uuid_module.UUID(routed_case["id"]))
    session.refresh(case)
    assert len(accepted) == 2 and case.first_accepted_at == accepted[0]


def test_a_case_reopened_long_after_its_deadline_gets_fresh_deadlines(client, make_user,
                                                                       worker):
    supervisor = make_user("supervisor", [BALIKPAPAN])
    with time_machine.travel(datetime(2026, 6, 1, 2, tzinfo=UTC), tick=True):
        case = client.post("/api/v1/cases", json=child_report(source="hotline",
                                                               incident_date="2026-05-30"),
                           headers=worker.headers).json
    url = f"/api/v1/cases/{case['id']}"
    reopened_at = datetime(2026, 9, 1, 2, tzinfo=UTC)
    with time_machine.travel(reopened_at, tick=False):
        assert _act(client, worker, f"{url}/transitions",
                    {"to": "closed", "reason": "duplicate"}, url).status_code == 200
        reopened = _act(client, supervisor, f"{url}/transitions", {"to": "reported"}, url)
        assert reopened.status_code == 200
        assert reopened.json["overdue"] is False
        assert reopened.json["triage_due_at"] == "2026-09-02T02:00:00Z"
        listed = client.get("/api/v1/cases", query_string={"overdue": "true"},
                            headers=worker.headers).json
        assert case["id"] not in {c["id"] for c in listed}
