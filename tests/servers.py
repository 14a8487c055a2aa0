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
def running_server(directory: Path, name: str, *, workers: int = 3) -> Iterator[dict]:
    """A served Lindung: {"base": its /api/v1 URL, "env": its environment, "tokens": the
    demo users' tokens by username}."""
    with database_of_its_own(directory, name) as url:
        env = {**os.environ, "LINDUNG_DATABASE_URL": url, "LINDUNG_SECRET_KEY": "e2e-secret",
               "LINDUNG_INSTANCE_PATH": str(directory / "instance")}
        demo = subprocess.run([LINDUNG, "demo"], env=env, capture_output=True, text=True,
                              check=True)
        tokens = {line.split()[1]: line.split()[2] for line in
                  demo.stdout[demo.stdout.index("Demo users"):].splitlines()[1:]}
        port = _free_port()
        log = directory / "server.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [LINDUNG, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}/api/v1"
        try:
            _wait_for(f"{base}/health", process, log)
            yield {"base": base, "env": env, "tokens": tokens, "log": log}
        finally:
            process.terminate()
            process.wait(timeout=20)


def _wait_for(url, process, log, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError("server did not answer in time")


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
