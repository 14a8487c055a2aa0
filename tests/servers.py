"""`lindung serve` for real: gunicorn with several worker processes over HTTP, on a database
of its own (a fresh SQLite file, or a fresh PostgreSQL database beside
LINDUNG_TEST_DATABASE_URL's), loaded with the demo data."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.databases import database_of_its_own

LINDUNG = str(Path(sys.executable).with_name("lindung"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(directory: Path, name: str, *, workers: int = 3,
                   settings: dict | None = None,
                   database_url: str | None = None) -> Iterator[dict]:
    """A served Lindung: {"base": its /api/v1 URL, "env": its environment, "tokens" and
    "passwords": the demo users' tokens and passwords by username}; SETTINGS are LINDUNG_*
    variables for it. DATABASE_URL: a database the caller owns and may share between
    servers, instead of one of its own."""
    with _database(directory, name, database_url) as url:
        env = {**os.environ, "LINDUNG_DATABASE_URL": url, "LINDUNG_SECRET_KEY": "e2e-secret",
               "LINDUNG_INSTANCE_PATH": str(directory / "instance"), **(settings or {})}
        demo = subprocess.run([LINDUNG, "demo"], env=env, capture_output=True, text=True,
                              check=True)
        demo_users = [line.split() for line in
                      demo.stdout[demo.stdout.index("Demo users"):].splitlines()[1:]]
        tokens = {fields[1]: fields[2] for fields in demo_users}
        passwords = {fields[1]: fields[3] for fields in demo_users}
        port = _free_port()
        log = directory / "server.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [LINDUNG, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}/api/v1"
        try:
            _wait_for(f"{base}/health", process, log)
            yield {"base": base, "env": env, "tokens": tokens, "passwords": passwords,
                   "log": log}
        finally:
            process.terminate()
            process.wait(timeout=20)


@contextmanager
def _database(directory: Path, name: str, shared_url: str | None) -> Iterator[str]:
    if shared_url is not None:
        yield shared_url
        return
    with database_of_its_own(directory, name) as url:
        yield url


def _wait_for(url, process, log, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except (requests.ConnectionError, requests.Timeout):  # not listening, or booting
            time.sleep(0.2)
    raise RuntimeError("server did not answer in time")


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
