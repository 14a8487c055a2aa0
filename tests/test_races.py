"""Races against a real server (several worker processes) with concurrent clients: every
invariant is held by the database, and a collision is never a 500.

Meant for PostgreSQL (LINDUNG_TEST_DATABASE_URL, as `.ci/run` sets it), where requests really
run in parallel; on SQLite the same requests take turns at the single writer lock.
"""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial

import pytest
import requests
from sqlalchemy import create_engine, text

from api.regions import calendar
from tests.conftest import child_report
from tests.servers import bearer, running_server
from tests.web.conftest import csrf_token_of
from tests.web.console import form_fields

TRIES = 12
LAMARU = "6471011002"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("races"), "lindung_races",
                        workers=4) as served:
        yield served


def at_once(*calls):
    """Run CALLS in threads released together; their responses, in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


class Client:
    def __init__(self, server, username):
        self.base, self.headers = server["base"], bearer(server["tokens"][username])

    def __call__(self, method, path, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.base}{path}", headers=headers, timeout=60,
                                **kwargs)


def _routed(reporter, caseworker, agency):
    """A reported case triaged high and routed: its URL and ETag, its DINSOS referral and
    that referral's ETag, as each side last read them."""
    case = reporter("POST", "/cases", json=child_report()).json()
    url = f"/cases/{case['id']}"
    etag = caseworker("GET", url).headers["ETag"]
    etag = caseworker("POST", f"{url}/triage", json={"risk_level": "high"},
                      headers={"If-Match": etag}).headers["ETag"]
    routed = caseworker("POST", f"{url}/route", headers={"If-Match": etag})
    assert routed.status_code == 200, routed.text
    referral = next(r for r in agency("GET", "/referrals", params={"case_id": case["id"]})
                    .json() if r["agency"] == "DINSOS")
    referral_etag = agency("GET", f"/referrals/{referral['id']}").headers["ETag"]
    return url, caseworker("GET", url).headers["ETag"], referral, referral_etag


def test_two_positive_weighings_at_once_open_one_case(server):
    cadre = Client(server, "demo_posyandu_cadre")
    today = calendar.today_in(LAMARU)
    for _ in range(TRIES):
        child_id = cadre("POST", "/measurements", json={
            "child": {"name": f"Anak {uuid.uuid4().hex[:6]}", "sex": "female",
                      "birth_date": str(today - timedelta(days=365)), "village_code": LAMARU},
            "measured_on": str(today - timedelta(days=40)), "weight_kg": 8.5,
            "height_cm": 72.0, "position": "lying"}).json()["child_id"]

        answers = at_once(*(partial(cadre, "POST", "/measurements", json={
            "child_id": child_id, "measured_on": str(today - timedelta(days=days_ago)),
            "weight_kg": 7.0, "height_cm": 64.0, "position": "lying"}) for days_ago in (1, 0)))
        assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
        case_ids = {a.json()["case_id"] for a in answers}
        assert len(case_ids) == 1 and None not in case_ids


def test_case_correction_and_referral_acceptance_at_once_never_fail(server):
    reporter, caseworker, agency = (Client(server, f"demo_{who}") for who in
                                    ("rt_head", "caseworker", "agency_officer"))
    for _ in range(TRIES):
        url, case_etag, referral, referral_etag = _routed(reporter, caseworker, agency)
        answers = at_once(
            partial(caseworker, "PATCH", url, headers={"If-Match": case_etag}, json={
                "address": f"Jl. Contoh {uuid.uuid4().hex[:4]}",
                "child": {"name": f"Budi {uuid.uuid4().hex[:4]}"},
                "household": {"members_count": 6}}),
            partial(agency, "POST", f"/referrals/{referral['id']}/transitions",
                    headers={"If-Match": referral_etag}, json={"to": "accepted"}))
        # whichever comes second changes what the other read: it wins, or is told so (412)
        statuses = sorted(a.status_code for a in answers)
        assert statuses in ([200, 200], [200, 412]), [a.text for a in answers]


def test_rules_and_agency_services_changed_at_once_stay_consistent(server):
    supervisor = Client(server, "demo_supervisor")
    admin = Client(server, "demo_admin")
    rules = supervisor("GET", "/routing-rules").json()
    dinsos = admin("GET", "/agencies").json()
    services = next(a["services"] for a in dinsos if a["code"] == "DINSOS")
    extra = "family_support" if "family_support" not in services else "legal_aid"
    for _ in range(TRIES):
        assert admin("PATCH", "/agencies/DINSOS",
                     json={"services": [*services, extra]}).status_code == 200
        with_extra = [*rules, {"id": "race-rule", "description": "A rule naming the service",
                               "when": {"category": "violence"}, "agency": "DINSOS",
                               "service": extra, "due_in_hours": 24}]
        answers = at_once(
            partial(supervisor, "PUT", "/routing-rules", json=with_extra),
            partial(admin, "PATCH", "/agencies/DINSOS", json={"services": services}))
        assert all(a.status_code < 500 for a in answers), [a.text for a in answers]
        offered = {(a["code"], s) for a in admin("GET", "/agencies").json()
                   for s in a["services"]}
        named = {(r["agency"], r["service"]) for r in supervisor("GET", "/routing-rules").json()}
        assert named <= offered, named - offered
        # back to the shipped rules for the next try
        assert supervisor("PUT", "/routing-rules", json=rules).status_code == 200


def test_a_manual_referral_beside_an_acceptance_and_a_correction_never_collides(server):
    reporter, caseworker, agency = (Client(server, f"demo_{who}") for who in
                                    ("rt_head", "caseworker", "agency_officer"))
    for _ in range(TRIES):
        url, case_etag, referral, referral_etag = _routed(reporter, caseworker, agency)
        answers = at_once(
            partial(caseworker, "POST", f"{url}/referrals", json={
                "agency": "DINSOS", "service": "family_support", "due_in_hours": 24}),
            partial(agency, "POST", f"/referrals/{referral['id']}/transitions",
                    headers={"If-Match": referral_etag}, json={"to": "accepted"}),
            partial(caseworker, "PATCH", url, headers={"If-Match": case_etag},
                    json={"child": {"name": f"Budi {uuid.uuid4().hex[:4]}"}}))
        statuses = [a.status_code for a in answers]
        assert statuses[0] == 201 and all(s in (200, 412) for s in statuses[1:]), [
            a.text for a in answers]


def _signed_in_browser(server, username: str) -> requests.Session:
    """A browser session of USERNAME, signed in through the web app's login form."""
    web = server["base"].removesuffix("/api/v1")
    browser = requests.Session()
    login = browser.get(f"{web}/app/masuk", timeout=30)
    answer = browser.post(f"{web}/app/masuk", timeout=30, allow_redirects=False, data={
        "csrf_token": csrf_token_of(login.text), "username": username,
        "password": server["passwords"][username]})
    assert answer.status_code == 303, answer.text
    return browser


def test_two_rule_forms_opened_on_one_version_store_one_and_refuse_the_other(server):
    web = server["base"].removesuffix("/api/v1") + "/app/aturan"
    browsers = [_signed_in_browser(server, "demo_supervisor") for _ in range(2)]
    shown = [form_fields(browser.get(web, timeout=30).text, "/app/aturan")
             for browser in browsers]
    assert dict(shown[0])["version"] == dict(shown[1])["version"]
    # the first rule's acceptance deadline changed to 30 hours in one, 40 in the other
    forms = [[(name, due if name == "r0.due_in_hours" else value) for name, value in fields]
             for fields, due in zip(shown, ("30", "40"), strict=True)]
    # both forms are sent while another transaction holds the rule set's lock (the agencies'
    # rows), so each would pass a version read before that lock
    holder = create_engine(server["env"]["LINDUNG_DATABASE_URL"])
    try:
        with holder.connect() as connection:
            postgresql = connection.dialect.name == "postgresql"
            if postgresql:
                connection.execute(text("SELECT code FROM agencies FOR UPDATE"))
            with ThreadPoolExecutor(2) as pool:
                sent = [pool.submit(browser.post, web, data=form, timeout=60,
                                    allow_redirects=False)
                        for browser, form in zip(browsers, forms, strict=True)]
                if postgresql:
                    time.sleep(1.5)  # both wait on the lock
                    connection.rollback()
                answers = [future.result() for future in sent]
    finally:
        holder.dispose()
    statuses = [answer.status_code for answer in answers]
    assert sorted(statuses) == [303, 412]
    winner = dict(forms[statuses.index(303)])["r0.due_in_hours"]
    rules = requests.get(f"{server['base']}/routing-rules", timeout=30,
                         headers=bearer(server["tokens"]["demo_supervisor"])).json()
    assert str(rules[0]["due_in_hours"]) == winner
