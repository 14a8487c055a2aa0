"""The README's case from report to referral, entirely in the browser (real Chromium): the RT
head reports in the reporters' app; the caseworker finds it at the top of the queue, flagged
by its deadline, triages it high and routes it, and sees five referrals with their rules; the
DINSOS officer accepts on the referral board; the case file shows the case in service and its
timeline; a second tab's stale triage is shown what changed instead of overwriting it. The
queue refreshes itself; axe-core finds nothing serious on the queue or the case file.

A server of its own: the queue's top must be this test's report, whatever other tests file."""

import re

import pytest
import requests

from tests.servers import bearer, running_server
from tests.web.conftest import PHONE, fill_report, log_in
from tests.web.test_accessibility import serious_violations

CHILD = "Rani Lestari"
DESK = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("readme"), "lindung_readme",
                        workers=2) as served:
        served["origin"] = served["base"].removesuffix("/api/v1")
        yield served


@pytest.fixture
def person(browser, own_server):
    """person(username, viewport) → a page of a new browser context, signed in."""
    contexts = []

    def open_(username: str, viewport=DESK):
        context = browser.new_context(viewport=viewport, base_url=own_server["origin"])
        contexts.append(context)
        page = context.new_page()
        log_in(page, own_server, username)
        return page

    yield open_
    for context in contexts:
        context.close()


def api_case(server, case_id: str) -> dict:
    answer = requests.get(f"{server['base']}/cases/{case_id}", timeout=10,
                          headers=bearer(server["tokens"]["demo_caseworker"]))
    answer.raise_for_status()
    return answer.json()


def test_the_readme_flow_in_the_browser(person, own_server):
    # the RT head reports from the phone: a child in danger now
    reporter = person("demo_rt_head", PHONE)
    reporter.goto("/app/lapor")
    fill_report(reporter, child_name=CHILD)
    reporter.get_by_label("Anak dalam bahaya sekarang").check()
    reporter.get_by_role("button", name="Kirim laporan").click()
    reporter.wait_for_selector("#hasil:not([hidden])")
    reference = re.search(r"KS-\d{4}-\d{4}-\d{6}", reporter.inner_text("#hasil")).group(0)

    # the caseworker's queue: at the top, flagged as an emergency, its deadline shown
    worker = person("demo_caseworker")
    assert worker.goto("/app/kasus").status == 200
    top = worker.locator("li.case-row").first
    assert top.get_attribute("data-reference") == reference
    assert "Darurat" in top.inner_text()
    deadline = top.locator("dd.deadline").inner_text()
    assert re.fullmatch(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2} WITA", deadline.strip())
    assert serious_violations(worker) == []

    top.get_by_role("link", name=reference).click()
    worker.wait_for_load_state()
    case_url = worker.url
    case_id = case_url.rstrip("/").rsplit("/", 1)[1]
    assert serious_violations(worker) == []
    # a second tab opened now, and left open while the case moves on
    second = worker.context.new_page()
    second.goto(case_url)

    worker.get_by_label("Tingkat risiko").select_option("high")
    worker.get_by_role("button", name="Simpan triase").click()
    worker.wait_for_load_state()
    assert "Triase tersimpan." in worker.inner_text("main")
    assert worker.inner_text("dd.risk") == "Tinggi"
    worker.get_by_role("button", name="Rujuk sesuai rencana").click()
    worker.wait_for_load_state()
    rows = worker.locator("table.referrals tbody tr")
    assert rows.count() == 5
    assert sorted(worker.locator("table.referrals td.rule").all_inner_texts()) == sorted([
        "violence-protection", "violence-medical", "violence-social-assistance",
        "violence-job-training", "violence-school"])

    # DINSOS accepts on its referral board
    officer = person("demo_agency_officer")
    officer.goto("/app/rujukan")
    card = officer.locator("li.referral", has_text=reference)
    card.get_by_role("button", name="Terima").click()
    officer.wait_for_load_state()

    worker.goto(case_url)
    assert worker.get_attribute("dd.status", "data-status") == "in_service"
    assert worker.inner_text("dd.status") == "Dalam layanan"
    steps = worker.locator("ol.timeline li").evaluate_all(
        "items => items.map(item => item.dataset.kind)")
    for kind in ("reported", "triaged", "routed", "referral_accepted", "status_changed"):
        assert kind in steps, kind
    assert "Rujukan diterima dinas" in worker.inner_text("ol.timeline")

    # the stale tab: its triage is not stored; it is told what changed
    second.get_by_label("Tingkat risiko").select_option("low")
    second.get_by_role("button", name="Simpan triase").click()
    second.wait_for_load_state()
    notice = second.locator("#berubah")
    assert "Kasus ini berubah sejak Anda membukanya" in notice.inner_text()
    changes = notice.locator("tbody tr").evaluate_all(
        "rows => rows.map(row => Array.from(row.cells, cell => cell.innerText))")
    assert ["Status", "Dilaporkan", "Dalam layanan"] in changes
    assert ["Tingkat risiko", "—", "Tinggi"] in changes
    assert serious_violations(second) == []
    assert api_case(own_server, case_id)["risk_level"] == "high"


def test_the_queue_refreshes_itself(person, own_server):
    worker = person("demo_caseworker")
    worker.goto("/app/kasus?q=Wulan+Sari")
    assert worker.locator("li.case-row").count() == 0
    worker.evaluate("window.notReloaded = true")
    answer = requests.post(f"{own_server['base']}/cases", timeout=10, json={
        "category": "stunting_risk", "village_code": "6471011001",
        "child": {"name": "Wulan Sari", "sex": "female", "birth_date": "2025-02-02"}},
        headers=bearer(own_server["tokens"]["demo_rt_head"]))
    assert answer.status_code == 201
    # the tab regains focus: the queue is fetched again, the page itself is not reloaded
    worker.evaluate("window.dispatchEvent(new Event('focus'))")
    worker.wait_for_selector(f'li.case-row[data-reference="{answer.json()["reference"]}"]')
    assert worker.evaluate("window.notReloaded") is True
    assert "Diperbarui otomatis" in worker.inner_text("#pembaruan")
