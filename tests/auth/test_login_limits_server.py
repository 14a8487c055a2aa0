"""The login limits of a real server: `lindung serve` with 4 gunicorn workers over HTTP, on a
database of its own (SQLite file, or PostgreSQL beside LINDUNG_TEST_DATABASE_URL's), counting
in that database as it does by default. 40 wrong passwords a minute let exactly 5 through per
account and 20 per client address, whichever worker answers.

Each test sends from an address of its own on the loopback network (127.0.0.x), so that the
address limit of one test does not spill into another.
"""

import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.servers import LINDUNG, running_server

WORKERS = 4
TRIES = 40
USERNAME = "weakpw2"
PASSWORD = "kata sandi yang cukup panjang"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("limits"), "lindung_limits",
                        workers=WORKERS) as served:
        subprocess.run([LINDUNG, "users", "create", USERNAME, "--role", "admin", "--password"],
                       input=f"{PASSWORD}\n{PASSWORD}\n", env=served["env"], check=True,
                       capture_output=True, text=True)
        yield served


class FromAddress(HTTPAdapter):
    """Connections from one loopback address: the server sees a client of its own."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


def _log_in(server, address: str, body: dict) -> requests.Response:
    with requests.Session() as client:
        client.mount("http://", FromAddress(address))
        return client.post(f"{server['base']}/auth/tokens", json=body, timeout=60)


def _statuses(server, address: str, bodies: list[dict]) -> Counter:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return Counter(response.status_code for response in
                       pool.map(lambda body: _log_in(server, address, body), bodies))


def test_an_account_gets_five_tries_a_minute_from_the_whole_server(server):
    wrong = [{"username": USERNAME, "password": f"salah-{n}"} for n in range(TRIES)]
    assert _statuses(server, "127.0.0.2", wrong) == Counter({401: 5, 429: TRIES - 5})
    # the right password now, under any spelling of the name and from elsewhere: refused
    for n, name in enumerate([USERNAME, f"   {USERNAME}", USERNAME.upper()]):
        refused = _log_in(server, f"127.0.0.{3 + n}", {"username": name, "password": PASSWORD})
        assert refused.status_code == 429, (name, refused.text)
        assert int(refused.headers["Retry-After"]) > 0
        assert refused.headers["Content-Type"] == "application/problem+json"


def test_an_address_gets_twenty_tries_a_minute_from_the_whole_server(server):
    wrong = [{"username": f"nobody-{n}", "password": "salah-salah"} for n in range(TRIES)]
    assert _statuses(server, "127.0.0.9", wrong) == Counter({401: 20, 429: TRIES - 20})


def test_a_login_from_a_fresh_address_and_account_works(server):
    subprocess.run([LINDUNG, "users", "create", "pak.joko", "--role", "admin", "--password"],
                   input=f"{PASSWORD}\n{PASSWORD}\n", env=server["env"], check=True,
                   capture_output=True, text=True)
    response = _log_in(server, "127.0.0.10", {"username": " Pak.Joko", "password": PASSWORD})
    assert response.status_code == 201, response.text
    assert response.json()["expires_at"]
