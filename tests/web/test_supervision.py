"""The supervisors' tools: routing rules as a form (validated and stored as PUT
/routing-rules), audit events and accounts of the people in their areas, read-only."""

import pytest
import requests
from werkzeug.datastructures import MultiDict

from api.vocabularies.codes import Role
from tests.conftest import BALIKPAPAN, BANJARMASIN, MANGGAR, child_report
from tests.servers import bearer
from tests.web.console import form_fields, signed_in  # noqa: F401  (a fixture)
from tests.web.test_accessibility import serious_violations

RULES = "/app/aturan"
RULES_API = "/api/v1/routing-rules"


@pytest.fixture
def supervisor(signed_in):  # noqa: F811
    return signed_in(Role.SUPERVISOR, [BALIKPAPAN])


@pytest.fixture
def api_supervisor(make_user):
    return make_user("supervisor", [BALIKPAPAN])


def _form(browser) -> MultiDict:
    page = browser.get(RULES)
    assert page.status_code == 200
    return MultiDict(form_fields(page.get_data(as_text=True), RULES))


def _rules(client, caller) -> list[dict]:
    return client.get(RULES_API, headers=caller.headers).json


def _as_sets(rules: list[dict]) -> list[dict]:
    """RULES with each any-of list of codes as a set: the form lists codes in vocabulary
    order."""
    return [{**rule, "when": {name: set(value) if isinstance(value, list) and name != "any_of"
                              else value for name, value in rule["when"].items()}}
            for rule in rules]


def test_the_form_shows_the_city_s_rules(supervisor):
    html = supervisor.get(RULES).get_data(as_text=True)
    assert "violence-protection" in html and "BALIKPAPAN" in html
    assert 'name="r0.due_in_hours"' in html and 'name="version"' in html


def test_saving_the_form_unchanged_keeps_every_rule_as_it_was(supervisor, client,
                                                               api_supervisor):
    before = _rules(client, api_supervisor)
    answer = supervisor.post(RULES, data=_form(supervisor))
    assert answer.status_code == 303
    assert _as_sets(_rules(client, api_supervisor)) == _as_sets(before)


def test_a_valid_edit_is_stored(supervisor, client, api_supervisor):
    form = _form(supervisor)
    form["r0.due_in_hours"] = "12"
    form.setlist("r1.when.risk_levels", ["high", "medium"])
    form["r7._remove"] = "1"
    answer = supervisor.post(RULES, data=form)
    assert answer.status_code == 303
    assert "Aturan rujukan disimpan." in supervisor.get(answer.headers["Location"]).get_data(
        as_text=True)
    rules = _rules(client, api_supervisor)
    assert rules[0]["due_in_hours"] == 12
    assert rules[1]["when"]["risk_levels"] == ["high", "medium"]
    assert len(rules) == 7 and "stunting-job-training" not in {r["id"] for r in rules}


def test_bad_input_is_refused_beside_the_field_and_nothing_is_stored(supervisor, client,
                                                                      api_supervisor):
    before = _rules(client, api_supervisor)
    form = _form(supervisor)
    form["r0.due_in_hours"] = "0"
    form["r2.id"] = "Bukan Kode!"
    form["r3.when.any_of"] = "[{"
    form["r4.service"] = "legal_aid"  # DISDIK does not offer it
    answer = supervisor.post(RULES, data=form)
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert ('data-error-for="r0.due_in_hours">Batas waktu penerimaan (jam) harus antara 1 '
            'dan 720.') in html
    assert 'data-error-for="r2.id">Kode aturan: hanya huruf kecil' in html
    assert 'data-error-for="r3.when.any_of">' in html and "bukan JSON yang benar" in html
    assert 'id="f-r0.due_in_hours" name="r0.due_in_hours" type="number" value="0"' in html
    assert _rules(client, api_supervisor) == before
    form = MultiDict(form_fields(html, RULES))  # corrected on the page shown again
    form["r0.due_in_hours"], form["r2.id"] = "24", "violence-social-assistance"
    form["r3.when.any_of"], form["r4.service"] = "", "school_support"
    assert supervisor.post(RULES, data=form).status_code == 303


def test_the_agency_the_rule_names_must_offer_the_service(supervisor, client, api_supervisor):
    before = _rules(client, api_supervisor)
    form = _form(supervisor)
    form["r4.service"] = "legal_aid"
    answer = supervisor.post(RULES, data=form)
    assert answer.status_code == 422
    assert ('data-error-for="r4.service">Dinas ini tidak memberikan layanan tersebut.'
            in answer.get_data(as_text=True))
    assert _rules(client, api_supervisor) == before


def test_a_form_opened_before_another_change_stores_nothing(supervisor, client,
                                                             api_supervisor):
    form = _form(supervisor)
    changed = _rules(client, api_supervisor)
    changed[0]["due_in_hours"] = 6
    for rule in changed:
        rule.pop("city", None)
    assert client.put(RULES_API, json=changed, headers=api_supervisor.headers).status_code == 200
    form["r0.due_in_hours"] = "48"
    answer = supervisor.post(RULES, data=form)
    assert answer.status_code == 412
    assert "sudah diubah orang lain sejak Anda membukanya" in answer.get_data(as_text=True)
    assert _rules(client, api_supervisor)[0]["due_in_hours"] == 6


def test_the_audit_page_shows_the_events_of_people_in_the_supervisor_s_areas(
        supervisor, client, make_user):
    here = make_user("caseworker", [BALIKPAPAN])
    there = make_user("caseworker", [BANJARMASIN])
    case = client.post("/api/v1/cases", json=child_report(source="hotline"),
                       headers=here.headers).json
    assert client.get(f"/api/v1/cases/{case['id']}", headers=here.headers).status_code == 200
    assert client.get("/api/v1/cases", headers=there.headers).status_code == 200
    html = supervisor.get("/app/audit").get_data(as_text=True)
    assert here.username in html and "case.read" in html and case["id"] in html
    assert there.username not in html
    filtered = supervisor.get("/app/audit", query_string={"action": "case.create"})
    assert "case.read" not in filtered.get_data(as_text=True).split('id="tabel-audit"')[1]


def test_the_users_page_lists_the_people_of_the_supervisor_s_areas(supervisor, client,
                                                                   make_user,
                                                                   api_supervisor):
    here = make_user("rt_head", [MANGGAR])
    there = make_user("caseworker", [BANJARMASIN])
    html = supervisor.get("/app/pengguna").get_data(as_text=True)
    assert here.username in html and there.username not in html
    assert 'name="' not in html.split("<main")[1].split("</main>")[0]  # read-only: no form
    listed = {u["username"] for u in client.get("/api/v1/users", query_string={
        "page_size": 100}, headers=api_supervisor.headers).json}
    assert here.username in listed and there.username not in listed


@pytest.mark.parametrize("path", [RULES, "/app/audit", "/app/pengguna"])
@pytest.mark.parametrize("role, areas, agency", [
    (Role.CASEWORKER, [BALIKPAPAN], None), (Role.AGENCY_OFFICER, [], "DINSOS"),
    (Role.ANALYST, [BALIKPAPAN], None), (Role.RT_HEAD, [MANGGAR], None)])
def test_the_tools_refuse_other_roles(signed_in, path, role, areas, agency):  # noqa: F811
    page = signed_in(role, areas, agency).get(path)
    assert page.status_code == 403


def test_the_admin_reads_accounts_and_audit_but_not_the_rules(signed_in):  # noqa: F811
    admin = signed_in(Role.ADMIN)
    assert admin.get(RULES).status_code == 403
    assert admin.get("/app/pengguna").status_code == 200
    assert admin.get("/app/audit").status_code == 200


def test_another_city_s_rules_are_refused(supervisor):
    assert supervisor.get(RULES, query_string={"city": "6371"}).status_code == 403


# ---------- in Chromium, on the served app ----------

def _served_rules(server) -> list[dict]:
    return requests.get(f"{server['base']}/routing-rules", timeout=10,
                        headers=bearer(server["tokens"]["demo_supervisor"])).json()


def test_in_the_browser_the_rules_form_refuses_bad_input_then_saves(open_page, server):
    before = _served_rules(server)
    page = open_page("demo_supervisor")
    page.goto(RULES)
    due = page.locator("#aturan-0").get_by_label("Batas waktu penerimaan (jam)")
    due.fill("0")
    page.get_by_role("button", name="Simpan aturan").click()
    page.wait_for_load_state()
    error = page.locator('[data-error-for="r0.due_in_hours"]')
    assert error.inner_text() == "Batas waktu penerimaan (jam) harus antara 1 dan 720."
    assert due.get_attribute("aria-invalid") == "true"
    assert serious_violations(page) == []
    assert _served_rules(server) == before
    original = before[0]["due_in_hours"]
    try:
        due.fill(str(original + 1))
        page.get_by_role("button", name="Simpan aturan").click()
        page.wait_for_load_state()
        assert "Aturan rujukan disimpan." in page.inner_text("main")
        assert _served_rules(server)[0]["due_in_hours"] == original + 1
    finally:  # the served app's rules as they were, for the other tests
        page.goto(RULES)
        page.locator("#aturan-0").get_by_label("Batas waktu penerimaan (jam)").fill(
            str(original))
        page.get_by_role("button", name="Simpan aturan").click()
        page.wait_for_load_state()
    assert _served_rules(server)[0]["due_in_hours"] == original


@pytest.mark.parametrize("path", ["/app/audit", "/app/pengguna"])
def test_in_the_browser_the_read_only_tools_have_no_serious_violation(open_page, path):
    page = open_page("demo_supervisor")
    assert page.goto(path).status == 200
    assert page.locator("table").count() == 1
    assert serious_violations(page) == []


def test_in_the_browser_the_tools_are_refused_to_an_agency_officer(open_page):
    page = open_page("demo_agency_officer")
    for path in (RULES, "/app/audit", "/app/pengguna"):
        assert page.goto(path).status == 403
