"""The case file a staff alert links to (/app/kasus/<id>): the caller's view of the case,
decided by the same policy as the API (Flask's test client, in-process)."""

import uuid

import pytest

from api.auth import service as auth_service
from api.vocabularies.codes import Role
from tests.conftest import BALIKPAPAN, BANJARMASIN, MANGGAR, child_report
from tests.web.conftest import csrf_token_of

PASSWORD = "pohon mangga di halaman"


@pytest.fixture
def signed_in(app, session):
    """A browser (test client) signed in as a new user of ROLE in AREAS."""
    def sign_in(role: Role, areas=(), agency=None):
        user = auth_service.create_user(session=session, username=f"u-{uuid.uuid4().hex[:8]}",
                                        role=role, area_codes=list(areas), agency_code=agency,
                                        password=PASSWORD)
        session.commit()
        browser = app.test_client()
        token = csrf_token_of(browser.get("/app/masuk").get_data(as_text=True))
        assert browser.post("/app/masuk", data={"csrf_token": token, "username": user.username,
                                                "password": PASSWORD}).status_code == 303
        return browser
    return sign_in


@pytest.fixture
def reported(client, make_user):
    reporter = make_user("rt_head", [MANGGAR])
    case = client.post("/api/v1/cases", json=child_report(), headers=reporter.headers).json
    return case


def test_caseworker_of_the_area_reads_the_case_file(signed_in, reported):
    page = signed_in(Role.CASEWORKER, [BALIKPAPAN]).get(f"/app/kasus/{reported['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert reported["reference"] in html and "Budi" in html
    assert 'lang="id"' in html and "Content-Security-Policy" in page.headers


def test_caseworker_of_another_city_gets_not_found(signed_in, reported):
    page = signed_in(Role.CASEWORKER, [BANJARMASIN]).get(f"/app/kasus/{reported['id']}")
    assert page.status_code == 404
    assert reported["reference"] not in page.get_data(as_text=True)


def test_agency_officer_cannot_open_a_case_file(signed_in, reported):
    page = signed_in(Role.AGENCY_OFFICER, agency="DINSOS").get(f"/app/kasus/{reported['id']}")
    assert page.status_code == 403
    assert "Budi" not in page.get_data(as_text=True)


def test_another_reporter_gets_not_found(signed_in, reported):
    page = signed_in(Role.RT_HEAD, [MANGGAR]).get(f"/app/kasus/{reported['id']}")
    assert page.status_code == 404


def test_without_a_session_the_login_comes_first(client, reported):
    page = client.get(f"/app/kasus/{reported['id']}")
    assert page.status_code == 302 and page.headers["Location"].startswith("/app/masuk")


def test_a_caseworker_reports_from_the_form_saying_how_it_came_in(signed_in, session):
    browser = signed_in(Role.CASEWORKER, [BALIKPAPAN])
    form = browser.get("/app/lapor").get_data(as_text=True)
    assert 'name="source"' in form
    answer = browser.post("/app/lapor", headers={"Accept": "application/json",
                                                 "X-CSRFToken": csrf_token_of(form)}, data={
        "source": "hotline", "category": "stunting_risk", "village_code": MANGGAR,
        "child.name": "Sari", "child.sex": "female", "child.age_years": "2"})
    assert answer.status_code == 201, answer.json
    assert answer.json["reference"].startswith("KS-6471-")


def test_a_reporter_is_not_asked_how_the_report_came_in(signed_in):
    form = signed_in(Role.RT_HEAD, [MANGGAR]).get("/app/lapor").get_data(as_text=True)
    assert 'name="source"' not in form
