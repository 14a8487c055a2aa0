"""The web session and forms in-process (Flask's test client): cookies, expiry, redirects,
refused fields and the English sentences."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.audit.models import AuditEvent
from api.auth import service as auth_service
from api.auth.models import ApiToken
from api.cases.models import Case
from api.vocabularies.codes import Role
from tests.web.conftest import csrf_token_of

PASSWORD = "pohon mangga di halaman"
MANGGAR = "6471011001"


@pytest.fixture
def reporter(session):
    user = auth_service.create_user(session=session, username=f"rt-{uuid.uuid4().hex[:8]}",
                                    role=Role.RT_HEAD, area_codes=[MANGGAR], password=PASSWORD)
    session.commit()
    return user


def _log_in(client, username, *, next_page=None):
    token = csrf_token_of(client.get("/app/masuk").get_data(as_text=True))
    path = "/app/masuk" + (f"?next={next_page}" if next_page else "")
    return client.post(path, data={"csrf_token": token, "username": username,
                                   "password": PASSWORD})


def _cases(session) -> int:
    return session.scalar(select(func.count()).select_from(Case))


def test_session_cookie_is_secure_over_https(client):
    answer = client.get("/app/masuk", base_url="https://lindung.example")
    cookie = answer.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_goes_on_to_a_page_of_this_app_only(client, reporter):
    answer = _log_in(client, reporter.username, next_page="//elsewhere.example/app/")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/app/lapor"


def test_a_session_left_unused_too_long_ends(app, client, reporter):
    _log_in(client, reporter.username)
    assert client.get("/app/lapor").status_code == 200
    app.config["SESSION_IDLE"] = timedelta(0)
    answer = client.get("/app/lapor")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/app/masuk")


def test_a_revoked_session_ends(client, session, reporter):
    _log_in(client, reporter.username)
    auth_service.revoke_tokens_of(session=session, user_id=reporter.id,
                                  now=auth_service.utcnow())
    session.commit()
    assert client.get("/app/laporan-saya").status_code == 302


def test_an_unknown_form_field_is_refused_and_nothing_is_stored(client, session, reporter):
    _log_in(client, reporter.username)
    token = csrf_token_of(client.get("/app/lapor").get_data(as_text=True))
    before = _cases(session)
    answer = client.post("/app/lapor", headers={"Accept": "application/json",
                                                "X-CSRFToken": token}, data={
        "category": "stunting_risk", "village_code": MANGGAR, "child.name": "Sari",
        "child.sex": "female", "child.age_years": "2", "reporter_id": str(uuid.uuid4())})
    assert answer.status_code == 422
    assert answer.json["errors"] == {"_form": ["Isian tidak dikenal dikirim."]}
    assert _cases(session) == before


def test_errors_are_english_sentences_when_english_is_chosen(client, session, reporter):
    _log_in(client, reporter.username)
    token = csrf_token_of(client.get("/app/lapor?lang=en").get_data(as_text=True))
    answer = client.post("/app/lapor", headers={"Accept": "application/json",
                                                "X-CSRFToken": token}, data={
        "category": "violence", "village_code": MANGGAR, "child.name": "Sari",
        "child.sex": "female", "child.birth_date": "2099-01-01"})
    assert answer.status_code == 422
    assert answer.json["errors"]["child.birth_date"] == [
        "Date of birth must not be in the future."]
    assert answer.json["errors"]["violence_types"] == ["Choose at least one Form of violence."]


def test_a_report_outside_the_reporters_areas_is_refused(client, session, reporter):
    _log_in(client, reporter.username)
    token = csrf_token_of(client.get("/app/lapor").get_data(as_text=True))
    before = _cases(session)
    answer = client.post("/app/lapor", headers={"Accept": "application/json",
                                                "X-CSRFToken": token}, data={
        "category": "stunting_risk", "village_code": "6371011001", "child.name": "Sari",
        "child.sex": "female", "child.age_years": "2"})
    assert answer.status_code == 403
    assert _cases(session) == before


def test_a_new_login_ends_the_session_it_replaces(client, session, reporter):
    _log_in(client, reporter.username)
    replaced = session.scalars(select(ApiToken).where(ApiToken.user_id == reporter.id)).one()
    _log_in(client, reporter.username)
    session.refresh(replaced)
    assert replaced.revoked_at is not None
    assert client.get("/app/laporan-saya").status_code == 200


def test_a_report_filed_from_the_form_names_its_case_in_the_audit_log(client, session,
                                                                       reporter):
    _log_in(client, reporter.username)
    token = csrf_token_of(client.get("/app/lapor").get_data(as_text=True))
    answer = client.post("/app/lapor", data={  # no script: the answer is a redirect
        "csrf_token": token, "category": "stunting_risk", "village_code": MANGGAR,
        "child.name": "Sari", "child.sex": "female", "child.age_years": "2"})
    assert answer.status_code == 303
    case_id = session.scalars(select(Case.id).where(Case.reporter_id == reporter.id)).one()
    events = session.scalars(select(AuditEvent).where(AuditEvent.actor_id == reporter.id,
                                                      AuditEvent.action == "case.create")).all()
    assert [(e.subject_type, e.subject_id) for e in events] == [("case", str(case_id))], \
        [(e.action, e.subject_type, e.subject_id, e.outcome) for e in events]
