"""Every page: Indonesian by default, English on request, a strict CSP, nothing fetched from
another host; what each role may open is the API's policy."""

from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from api.web.csp import HEADER_VALUE
from tests.web.conftest import own_cases

REPORTER_PAGES = ["/app/lapor", "/app/laporan-saya"]
CADRE_PAGES = ["/app/timbang"]


def _visit(page, path):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    answer = page.goto(path)
    page.wait_for_load_state("networkidle")
    return answer, requested


@pytest.mark.parametrize(("username", "path"), [
    (None, "/app/masuk"),
    *[("demo_rt_head", path) for path in REPORTER_PAGES],
    *[("demo_posyandu_cadre", path) for path in CADRE_PAGES],
])
def test_every_page_is_indonesian_with_a_csp_and_nothing_from_another_host(
        open_page, server, username, path):
    page = open_page(username)
    answer, requested = _visit(page, path)

    assert answer.status == 200
    assert answer.headers["content-security-policy"] == HEADER_VALUE
    assert "script-src 'self'" in HEADER_VALUE and "unsafe-inline" not in HEADER_VALUE
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"
    assert page.locator("html").get_attribute("lang") == "id"
    origin = urlparse(server["origin"])
    assert requested and all(urlparse(url).netloc == origin.netloc for url in requested)
    # no inline script for the policy to block: every script is a file of the app
    assert page.locator("script:not([src])").count() == 0


def test_english_is_one_choice_away_and_is_remembered(open_page):
    page = open_page("demo_rt_head")
    page.goto("/app/lapor?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("heading", name="Report a child")).to_be_visible()
    # code labels come from the vocabularies' English labels
    expect(page.get_by_label("Violence against a child")).to_be_visible()
    page.goto("/app/laporan-saya")
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("heading", name="My reports")).to_be_visible()
    page.goto("/app/lapor?lang=id")
    expect(page.get_by_role("heading", name="Laporkan anak")).to_be_visible()


def test_a_page_asks_who_you_are_first(open_page):
    page = open_page()
    page.goto("/app/lapor")
    assert urlparse(page.url).path == "/app/masuk"
    expect(page.get_by_role("heading", name="Masuk ke Lindung")).to_be_visible()


@pytest.mark.parametrize("path", ["/app/lapor", "/app/timbang", "/app/laporan-saya"])
def test_an_agency_officer_gets_no_reporter_page(open_page, path):
    page = open_page("demo_agency_officer")
    answer = page.goto(path)
    assert answer.status == 403
    expect(page.get_by_text("Peran Anda tidak dapat membuka halaman ini.")).to_be_visible()


def test_a_reporter_cannot_open_another_reporters_case(open_page, server):
    rt_heads_case = own_cases(server, "demo_rt_head")[0]
    page = open_page("demo_teacher")  # whose area covers the RT head's kelurahan
    answer = page.goto(f"/app/laporan-saya/{rt_heads_case['id']}")
    assert answer.status == 404
    assert rt_heads_case["reference"] not in page.content()
