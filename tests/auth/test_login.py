"""POST /auth/tokens: password login, argon2id, rate limits per account and address."""

import uuid

import pytest

from api import create_app
from api.auth import service
from tests.conftest import MANGGAR

PASSWORD = "kata-sandi-yang-panjang"


@pytest.fixture
def account(session):
    user = service.create_user(session=session, username=f"rt-{uuid.uuid4().hex[:6]}",
                               role="rt_head", area_codes=[MANGGAR], password=PASSWORD)
    session.commit()
    return user.username


def _login(client, username, password=PASSWORD, address="203.0.113.7"):
    return client.post("/api/v1/auth/tokens", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_password_login_gives_a_working_token(client, account):
    response = _login(client, account)
    assert response.status_code == 201
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
