"""A database outage: every call answers 503 with Retry-After, nothing is stored, and the
service recovers by itself once the database is back (no restart).

On PostgreSQL the server reaches its database through a TCP proxy started here, which is
stopped (every connection cut, new ones refused) and started again: the shared cluster keeps
running. On SQLite the database is held locked past the server's busy timeout.
"""

import os
import socket
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager, suppress

import pytest
import requests
from sqlalchemy import make_url

from api import create_app
from api.db import SQLITE_BUSY_TIMEOUT_MS
from api.errors import PROBLEM_JSON
from api.migrate import upgrade
from tests.conftest import child_report
from tests.databases import database_of_its_own
from tests.servers import bearer, running_server

POSTGRESQL = bool(os.environ.get("LINDUNG_TEST_DATABASE_URL"))
# a request waits for SQLite's lock this long before it gives up
REQUEST_TIMEOUT = SQLITE_BUSY_TIMEOUT_MS / 1000 + 20


class TcpProxy:
    """Forwards 127.0.0.1:port to UPSTREAM (host, port); stop() cuts every connection and
    refuses new ones until start()."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.port = _free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)  # shutdown wakes the thread blocked in accept()
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        _close(source)
        _close(target)


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A real server, and `outage()`: a context in which its database is out of reach."""
    directory = tmp_path_factory.mktemp("outage")
    with database_of_its_own(directory, "lindung_outage") as url:
        if POSTGRESQL:
            real = make_url(url)
            proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))
            proxy.start()
            proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(
                hide_password=False)

            @contextmanager
            def outage():
                proxy.stop()
                try:
                    yield
                finally:
                    proxy.start()

            try:
                with running_server(directory, "lindung_outage", workers=2,
                                    database_url=proxied) as server:
                    yield server, outage
            finally:
                proxy.stop()
        else:
            @contextmanager
            def outage():
                # another process holding SQLite's write lock past the busy timeout
                holder = sqlite3.connect(make_url(url).database, isolation_level=None)
                holder.execute("BEGIN EXCLUSIVE")
                try:
                    yield
                finally:
                    holder.execute("ROLLBACK")
                    holder.close()

            with running_server(directory, "lindung_outage", workers=2,
                                database_url=url) as server:
                yield server, outage


def _report(server, key: str) -> requests.Response:
    return requests.post(f"{server['base']}/cases", json=child_report(),
                         headers={**bearer(server["tokens"]["demo_rt_head"]),
                                  "Idempotency-Key": key}, timeout=REQUEST_TIMEOUT)


def _own_cases(server) -> list[dict]:
    answer = requests.get(f"{server['base']}/cases", params={"page_size": 100},
                          headers=bearer(server["tokens"]["demo_rt_head"]), timeout=30)
    assert answer.status_code == 200
    return answer.json()


def test_outage_answers_503_with_retry_after_and_the_service_recovers_by_itself(served):
    server, outage = served
    assert _report(server, f"before-{uuid.uuid4()}").status_code == 201
    before = len(_own_cases(server))
    key = f"during-{uuid.uuid4()}"

    with outage():
        refused = _report(server, key)
        alive = requests.get(f"{server['base']}/health/live", timeout=10)
        if POSTGRESQL:
            ready = requests.get(f"{server['base']}/health/ready", timeout=30)
            health = requests.get(f"{server['base']}/health", timeout=30)
        time.sleep(2)  # the outage lasts a while: pooled connections are all broken

    assert refused.status_code == 503
    assert refused.headers["Content-Type"] == PROBLEM_JSON
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json()["type"] == "urn:lindung:problem:database-unavailable"
    assert alive.status_code == 200 and alive.json()["status"] == "alive"
    if POSTGRESQL:
        assert ready.status_code == 503 and "Retry-After" in ready.headers
        assert ready.json()["database"] == "unreachable"
        assert health.status_code == 503

    # the same server, not restarted: the pool reconnects by itself
    deadline = time.monotonic() + 15
    while (retried := _report(server, key)).status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert retried.status_code == 201, retried.text
    assert "Idempotent-Replayed" not in retried.headers  # the refused try left no claim
    assert len(_own_cases(server)) == before + 1
    assert requests.get(f"{server['base']}/health/ready", timeout=10).status_code == 200


def test_unreachable_sqlite_file_answers_503_and_recovers_when_it_is_back(tmp_path):
    folder = tmp_path / "not-yet"
    url = f"sqlite:///{folder / 'lindung.sqlite3'}"
    client = create_app({"DATABASE_URL": url}).test_client()
    token = {"Authorization": "Bearer lnd_" + "x" * 43}

    down = client.get("/api/v1/cases", headers=token)
    assert down.status_code == 503
    assert down.content_type == PROBLEM_JSON
    assert down.headers["Retry-After"].isdigit()
    assert client.get("/api/v1/health").status_code == 503
    assert client.get("/api/v1/health/ready").json["database"] == "unreachable"
    assert client.get("/api/v1/health/live").status_code == 200

    folder.mkdir()
    upgrade(url)
    # the database is back: the same app answers as usual (an unknown token is 401)
    assert client.get("/api/v1/cases", headers=token).status_code == 401
    assert client.get("/api/v1/health/ready").status_code == 200
