"""axe-core (tests/web/vendor) on every page of the web app: no serious or critical
violation, with the form's errors shown too."""

from pathlib import Path

import pytest

from tests.web.conftest import fill_report, own_cases

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
RUN_AXE = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))"""


def serious_violations(page) -> list[str]:
    page.evaluate(AXE)  # evaluated through the DevTools protocol: the page's CSP stays on
    return page.evaluate(RUN_AXE)


@pytest.mark.parametrize(("username", "path"), [
    (None, "/app/masuk"),
    ("demo_rt_head", "/app/lapor"),
    ("demo_rt_head", "/app/laporan-saya"),
    ("demo_posyandu_cadre", "/app/timbang"),
    ("demo_agency_officer", "/app/lapor"),  # the refusal page
])
def test_page_has_no_serious_accessibility_violation(open_page, username, path):
    page = open_page(username)
    page.goto(path)
    assert serious_violations(page) == []


def test_form_with_errors_and_confirmation_have_no_serious_violation(open_page):
    page = open_page("demo_rt_head", java_script_enabled=True)
    page.goto("/app/lapor")
    fill_report(page, child_name="Aksesibel", birth_date="2099-01-01")
    page.get_by_role("button", name="Kirim laporan").click()
    page.wait_for_selector("#err-child\\.birth_date:not([hidden])")
    assert serious_violations(page) == []
    page.get_by_label("Tanggal lahir").fill("2016-02-02")
    page.get_by_role("button", name="Kirim laporan").click()
    page.wait_for_selector("#hasil:not([hidden])")
    assert serious_violations(page) == []


def test_axe_finds_a_violation_when_there_is_one(open_page):
    page = open_page()
    page.goto("/app/masuk")
    page.evaluate("""() => document.querySelector("main").append(
        Object.assign(document.createElement("input"), {type: "text"}))""")
    assert any(violation.startswith("label:") for violation in serious_violations(page))


def test_case_file_has_no_serious_accessibility_violation(open_page, server):
    case = own_cases(server, "demo_supervisor")[0]
    page = open_page("demo_caseworker")
    assert page.goto(f"/app/kasus/{case['id']}").status == 200
    assert serious_violations(page) == []
