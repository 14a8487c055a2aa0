"""The documentation people read: / and /api/v1 lead to it; a current Swagger UI served from
the package under a strict Content-Security-Policy, keeping the token across reloads."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from api import docs
from tests.servers import running_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]


@pytest.mark.parametrize("path", ["/", "/api/v1", "/api/v1/"])
def test_home_and_api_root_lead_to_the_docs(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/api/v1/docs"


def test_docs_page_runs_no_inline_script_under_a_strict_policy(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    policy = dict(part.strip().split(" ", 1) for part in
                  response.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
    assert scripts and all('src="/api/v1/docs/assets/' in attrs and not body.strip()
                           for attrs, body in scripts)
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing from another host
    for asset in re.findall(r'(?:src|href)="(/api/v1/docs/assets/[^"?]+)', page):
        with client.get(asset) as served:
            assert served.status_code == 200, asset


def test_docs_serve_the_vendored_swagger_ui_with_its_licence(client):
    readme = (docs.STATIC / "swagger-ui" / "README.md").read_text()
    assert f"`swagger-ui-dist` {docs.SWAGGER_UI_VERSION}" in readme
    assert "Apache-2.0" in readme
    assert (docs.STATIC / "swagger-ui" / "LICENSE").read_text().startswith(
        "\n                                 Apache License")
    with client.get("/api/v1/docs/assets/swagger-ui-bundle.js") as bundle:
        assert f'"{docs.SWAGGER_UI_VERSION}"' in bundle.get_data(as_text=True)
    with client.get("/api/v1/docs/assets/docs.js") as starter:
        assert "persistAuthorization: true" in starter.get_data(as_text=True)


def test_docs_assets_stay_inside_their_folder(client):
    assert client.get("/api/v1/docs/assets/../../docs.py").status_code == 404
    assert client.get("/api/v1/docs/assets/%2e%2e/docs.py").status_code == 404


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("docs"), "lindung_docs", workers=1) as served:
        yield served


def test_swagger_ui_keeps_the_token_across_a_reload(server):
    origin = server["base"].removesuffix("/api/v1")
    token = server["tokens"]["demo_caseworker"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            refused = []
            page.on("console", lambda message: refused.append(message.text)
                    if "Content Security Policy" in message.text else None)
            page.goto(f"{origin}/")
            assert page.url == f"{origin}/api/v1/docs"
            page.get_by_text("Lindung", exact=False).first.wait_for()
            page.locator(".auth-wrapper button.authorize.unlocked").click()
            page.locator("#auth-bearer-value").fill(token)
            page.get_by_role("button", name="Apply credentials").click()
            page.locator(".modal-ux button.btn-done").click()
            page.reload()
            # the lock is shown closed: the token was kept in this browser
            page.locator(".auth-wrapper button.authorize.locked").wait_for()
            operation = page.locator("#operations-me-getMe")
            operation.locator(".opblock-summary").click()
            operation.get_by_role("button", name="Try it out").click()
            operation.get_by_role("button", name="Execute").click()
            answer = operation.locator(".live-responses-table tr.response")
            answer.wait_for()
            assert answer.locator(".response-col_status").inner_text().strip() == "200"
            assert '"demo_caseworker"' in answer.inner_text()
            assert refused == []
        finally:
            browser.close()


def test_docs_folder_holds_only_what_the_page_needs():
    vendored = {path.name for path in (docs.STATIC / "swagger-ui").iterdir()}
    assert vendored == {"swagger-ui-bundle.js", "swagger-ui-bundle.js.LICENSE.txt",
                        "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE",
                        "README.md"}
    assert Path(docs.STATIC / "docs.js").is_file()
