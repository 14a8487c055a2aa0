"""The web session: a secure cookie, CSRF protection, logout and logout everywhere, and the
login limits the API has."""

import re
import uuid

import pytest
import requests
from flask import g
from playwright.sync_api import expect

from api.auth.policy import Principal
from api.vocabularies.codes import Role
from api.web import site
from tests.servers import bearer
from tests.web.conftest import csrf_token_of, log_in


def test_session_cookie_is_httponly_and_samesite(open_page):
    page = open_page("demo_rt_head")
    page.goto("/app/laporan-saya")
    cookie, = [c for c in page.context.cookies() if c["name"] == "lindung_web"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/app"
    assert cookie["expires"] == -1  # ends with the browser session
    # the page's script cannot read it
    assert "lindung_web" not in page.evaluate("document.cookie")


def test_a_post_without_the_csrf_token_is_refused(server):
    web = requests.Session()
    login = web.get(f"{server['origin']}/app/masuk", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    answer = web.post(f"{server['origin']}/app/masuk", timeout=10, allow_redirects=False,
                      data={"username": "demo_supervisor",
                            "password": server["passwords"]["demo_supervisor"]})
    assert answer.status_code == 400
    answer = web.post(f"{server['origin']}/app/masuk", timeout=10, allow_redirects=False,
                      data={"username": "demo_supervisor", "csrf_token": token,
                            "password": server["passwords"]["demo_supervisor"]})
    assert answer.status_code == 303
    # signed in, still no report without the token
    answer = web.post(f"{server['origin']}/app/lapor", timeout=10,
                      headers={"Accept": "application/json"},
                      data={"category": "stunting_risk"})
    assert answer.status_code == 400


def test_a_wrong_password_is_refused_in_indonesian(open_page, server):
    page = open_page()
    log_in(page, server, "demo_teacher", password="bukan-kata-sandinya")
    expect(page.get_by_role("alert")).to_have_text("Nama pengguna atau kata sandi salah.")
    assert page.url.endswith("/app/masuk")


def test_logins_through_the_form_are_limited_like_the_api(open_page, server):
    page = open_page()
    for _ in range(5):
        log_in(page, server, "demo_analyst", password="salah-salah-salah")
    log_in(page, server, "demo_analyst")  # the right password, too late
    expect(page.get_by_role("alert")).to_contain_text("Terlalu banyak percobaan masuk")
    # the API counts the same tries
    answer = requests.post(f"{server['base']}/auth/tokens", timeout=10, json={
        "username": "demo_analyst", "password": server["passwords"]["demo_analyst"]})
    assert answer.status_code == 429


def test_logout_ends_the_session(open_page, server):
    page = open_page()
    log_in(page, server, "demo_posyandu_cadre")
    expect(page.get_by_role("heading", name="Laporkan anak")).to_be_visible()
    page.get_by_role("button", name="Keluar", exact=True).click()
    expect(page.get_by_text("Anda sudah keluar.")).to_be_visible()
    page.goto("/app/lapor")
    assert page.url.split("?")[0].endswith("/app/masuk")


def test_logout_everywhere_revokes_every_token_of_the_account(open_page, server):
    api_login = requests.post(f"{server['base']}/auth/tokens", timeout=10, json={
        "username": "demo_caseworker", "password": server["passwords"]["demo_caseworker"]})
    assert api_login.status_code == 201
    api_token = api_login.json()["token"]
    page = open_page()
    log_in(page, server, "demo_caseworker")
    page.get_by_role("button", name="Keluar dari semua perangkat").click()
    expect(page.get_by_text("Anda sudah keluar.")).to_be_visible()
    me = requests.get(f"{server['base']}/me", headers=bearer(api_token), timeout=10)
    assert me.status_code == 401


def test_a_login_without_next_lands_on_the_queue_signed_in(server):
    web = requests.Session()
    login = web.get(f"{server['origin']}/app/masuk", timeout=10)
    answer = web.post(f"{server['origin']}/app/masuk", timeout=10, allow_redirects=False,
                      data={"username": "demo_caseworker", "csrf_token": csrf_token_of(login.text),
                            "password": server["passwords"]["demo_caseworker"]})
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/app/kasus")
    page = web.get(f"{server['origin']}/app/kasus", timeout=10, allow_redirects=False)
    assert page.status_code == 200  # the session the login started holds


@pytest.mark.parametrize(("role", "landing"), [
    ("caseworker", "/app/kasus"), ("supervisor", "/app/kasus"),
    ("agency_officer", "/app/rujukan"), ("analyst", "/app/kla"), ("rt_head", "/app/lapor"),
    ("posyandu_cadre", "/app/lapor"), ("admin", "/app/pengguna")])
def test_each_role_lands_on_the_first_page_of_its_work(app, role, landing):
    principal = Principal(user_id=uuid.uuid4(), username="x", role=Role(role),
                          area_codes=("6471",), token_id=uuid.uuid4(),
                          agency_code="DINSOS" if role == "agency_officer" else None)
    with app.test_request_context("/app/"):
        g.principal = principal
        assert site.landing_page() == landing
