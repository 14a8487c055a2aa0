"""POST /auth/tokens: password login, argon2id, rate limits per account and address, counted
in the application's database by default."""

import hashlib
import uuid
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from api import create_app
from api.auth.limits import DatabaseStorage
from api.auth.models import RateLimitCounter
from api.db import utcnow
from tests.auth.conftest import PASSWORD


@pytest.fixture
def account(password_user):
    return password_user.username


def _login(client, username, password=PASSWORD, address="203.0.113.7"):
    return client.post("/api/v1/auth/tokens", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_password_login_gives_a_working_token(client, account):
    response = _login(client, account)
    assert response.status_code == 201
    assert int(response.headers["X-RateLimit-Remaining"]) >= 0
    token = response.json["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                      ).json["username"] == account
    assert "password" not in response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["wrong password", "unknown user"])
def test_wrong_credentials_are_401(client, account, who):
    username, password = (account, "salah") if who == "wrong password" else ("nobody", "x")
    response = _login(client, username, password)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"


def test_an_account_is_limited_to_five_tries_a_minute(client, account):
    statuses = [_login(client, account, "salah", address=f"198.51.100.{n}").status_code
                for n in range(6)]
    assert statuses == [401] * 5 + [429]
    refused = _login(client, account, address="198.51.100.99")  # right password, too late
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.headers["Content-Type"] == "application/problem+json"


def test_an_address_is_limited_across_accounts(client):
    statuses = [_login(client, f"user-{n}", "x", address="192.0.2.1").status_code
                for n in range(21)]
    assert statuses[-1] == 429 and statuses[:20] == [401] * 20


def test_hosts_sharing_redis_share_the_limits(connection, database_url, account):
    """Two application processes (two hosts) count one account's tries together."""
    config = {"DATABASE_URL": database_url, "TESTING": True,
              "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
              "RATELIMIT_KEY_PREFIX": f"lindung-test-{uuid.uuid4().hex}"}
    first = create_app(config, bind=connection).test_client()
    second = create_app(config, bind=connection).test_client()
    statuses = [_login(host, account, "salah", address=f"198.51.100.{n}").status_code
                for n, host in enumerate([first, second] * 3)]
    assert statuses == [401] * 5 + [429]


SPELLINGS = {"leading spaces": lambda name: f"   {name}", "trailing": lambda name: f"{name}  ",
             "capitals": str.upper, "wide space, tab": lambda name: f"\u3000{name.upper()}\t"}


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_spaces_and_capitals_find_the_same_account(client, account, spelling):
    response = _login(client, spelling(account))
    assert response.status_code == 201, response.json
    token = {"Authorization": f"Bearer {response.json['token']}"}
    assert client.get("/api/v1/me", headers=token).json["username"] == account


def test_no_spelling_of_the_name_opens_a_fresh_count(client, account):
    """weakpw2 refused after 5 bad passwords, and so are '   weakpw2' and 'WEAKPW2' with the
    right one: the limit counts the account the login finds, not the string sent."""
    wrong = [_login(client, account, "salah-salah", address=f"198.51.100.{n}").status_code
             for n in range(5)]
    assert wrong == [401] * 5
    for n, name in enumerate([account, f"   {account}", account.upper(), f"{account}\t",
                              f" {account.upper()} "]):
        refused = _login(client, name, address=f"198.51.100.{50 + n}")
        assert refused.status_code == 429, (name, refused.json)
        assert int(refused.headers["Retry-After"]) > 0


def test_the_count_is_kept_in_the_database(client, session, account):
    assert _login(client, account, "salah-salah").status_code == 401
    counters = dict(session.execute(select(RateLimitCounter.key, RateLimitCounter.hits)).all())
    hashed = hashlib.sha256(account.encode()).hexdigest()
    mine = {key: hits for key, hits in counters.items() if f"account:{hashed}/" in key}
    assert sorted(mine.values()) == [1, 1]  # 5 a minute, 20 an hour
    assert any("203.0.113.7" in key for key in counters)


def test_processes_sharing_the_database_share_the_limits(connection, database_url, account):
    """Two application processes (gunicorn workers, hosts) count one account's tries together
    by default; tests/auth/test_login_limits_server.py does it with a real server."""
    config = {"DATABASE_URL": database_url, "TESTING": True}
    first = create_app(config, bind=connection).test_client()
    second = create_app(config, bind=connection).test_client()
    statuses = [_login(host, account, "salah", address=f"198.51.100.{n}").status_code
                for n, host in enumerate([first, second] * 3)]
    assert statuses == [401] * 5 + [429]


def test_a_window_ends_and_ended_windows_are_cleared(app):
    storage = DatabaseStorage(database=app.extensions["lindung.db"])
    with app.app_context():
        assert [storage.incr("test/old", 60) for _ in range(3)] == [1, 2, 3]
        assert storage.get("test/old") == 3
        assert storage.get_expiry("test/old") == pytest.approx(
            (utcnow() + timedelta(seconds=60)).timestamp(), abs=5)
        with time_machine.travel(utcnow() + timedelta(seconds=61)):
            assert storage.get("test/old") == 0
            assert storage.incr("test/old", 60) == 1  # a new window
            with time_machine.travel(utcnow() + timedelta(seconds=61)):
                assert storage.incr("test/new", 60) == 1  # starting a window clears ended ones
                with app.extensions["lindung.db"].session() as session:
                    keys = session.scalars(select(RateLimitCounter.key)).all()
        assert "test/old" not in keys and "test/new" in keys


@pytest.mark.parametrize("username", ["\ud800ani", "ani\u0000", "a" * 5000])
def test_any_text_as_a_username_is_a_clear_refusal(client, username):
    response = _login(client, username)
    assert response.status_code in (401, 422), response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
