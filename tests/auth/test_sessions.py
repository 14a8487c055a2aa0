"""Session tokens from a password login: idle timeout, absolute lifetime, logout, and logout
everywhere (DELETE /auth/tokens/current, DELETE /auth/tokens)."""

import uuid
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from api.auth import service
from api.auth.models import ApiToken
from api.config import from_environment
from api.db import utcnow
from tests.auth.conftest import PASSWORD
from tests.conftest import MANGGAR


@pytest.fixture
def account(password_user):
    return password_user


def _log_in(client, account) -> dict:
    response = client.post("/api/v1/auth/tokens",
                           json={"username": account.username, "password": PASSWORD})
    assert response.status_code == 201, response.json
    return response.json


def _me(client, token: str) -> int:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def _row(session, issued: dict) -> ApiToken:
    session.expire_all()
    return session.scalar(select(ApiToken).where(ApiToken.id == uuid.UUID(issued["id"])))


def test_a_login_token_expires_after_seven_days(client, account):
    issued = _log_in(client, account)
    expires = issued["expires_at"]
    assert expires is not None
    lifetime = datetime.fromisoformat(expires) - utcnow()
    assert timedelta(days=7) - timedelta(minutes=1) < lifetime <= timedelta(days=7)


def test_a_session_ends_after_twelve_hours_unused(client, account):
    start = utcnow()
    kept, dropped = _log_in(client, account)["token"], _log_in(client, account)["token"]
    with time_machine.travel(start + timedelta(hours=11)):
        assert _me(client, kept) == 200
    with time_machine.travel(start + timedelta(hours=22)):  # 11 h after its last use
        assert _me(client, kept) == 200
        assert _me(client, dropped) == 401  # 22 h unused
    with time_machine.travel(start + timedelta(hours=34, minutes=1)):
        assert _me(client, kept) == 401


def test_a_session_ends_after_seven_days_however_much_it_is_used(client, account):
    start = utcnow()
    token = _log_in(client, account)["token"]
    for hours in range(6, 7 * 24, 6):
        with time_machine.travel(start + timedelta(hours=hours)):
            assert _me(client, token) == 200, hours
    with time_machine.travel(start + timedelta(days=7, minutes=1)):
        assert _me(client, token) == 401


def test_last_use_is_written_at_most_once_every_five_minutes(client, session, account):
    start = utcnow()
    issued = _log_in(client, account)
    seen = []
    for minutes in (1, 6, 8, 10, 12):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert _me(client, issued["token"]) == 200
        last = _row(session, issued).last_used_at
        seen.append(None if last is None else round((last - start).total_seconds() / 60))
    assert seen == [None, 6, 6, 6, 12]


def test_api_tokens_have_no_idle_timeout(client, make_user):
    machine = make_user("agency_system", agency="DINSOS")
    with time_machine.travel(utcnow() + timedelta(days=90)):
        assert _me(client, machine.token) == 200


def test_log_out_ends_only_this_session(client, account):
    first, second = _log_in(client, account)["token"], _log_in(client, account)["token"]
    response = client.delete("/api/v1/auth/tokens/current",
                             headers={"Authorization": f"Bearer {first}"})
    assert response.status_code == 204 and response.data == b""
    assert _me(client, first) == 401
    assert _me(client, second) == 200
    again = client.delete("/api/v1/auth/tokens/current",
                          headers={"Authorization": f"Bearer {first}"})
    assert again.status_code == 401


def test_log_out_everywhere_ends_every_token_of_the_account(client, session, account,
                                                            make_user):
    sessions = [_log_in(client, account)["token"] for _ in range(3)]
    api_token = service.issue_token(session=session, user=account)
    session.commit()
    somebody_else = make_user("rt_head", [MANGGAR])
    response = client.delete("/api/v1/auth/tokens",
                             headers={"Authorization": f"Bearer {sessions[0]}"})
    assert response.status_code == 204 and response.data == b""
    assert [_me(client, token) for token in [*sessions, api_token]] == [401] * 4
    assert _me(client, somebody_else.token) == 200
    assert _me(client, _log_in(client, account)["token"]) == 200  # a new login works


def test_session_lengths_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("LINDUNG_SESSION_IDLE_HOURS", "0.5")
    monkeypatch.setenv("LINDUNG_SESSION_MAX_DAYS", "1")
    config = from_environment()
    assert config["SESSION_IDLE"] == timedelta(minutes=30)
    assert config["SESSION_MAX_AGE"] == timedelta(days=1)


def test_logging_out_is_never_limited_like_a_login(client, make_user):
    for _ in range(25):  # more than the 20 logins a minute an address may try
        caller = make_user("caseworker", ["6471"])
        # the login's own path: logging out everywhere is not a try at a password
        answer = client.delete("/api/v1/auth/tokens", headers=caller.headers)
        assert answer.status_code == 204
