"""gunicorn settings for Lindung, read from LINDUNG_* variables (docs/observability.md).

Used by `lindung serve`, or directly:
    gunicorn -c python:api.serving.gunicorn_conf
(the application is `api:create_app()`; run `lindung db upgrade` first).

Workers are gevent workers: each connection is a greenlet, so clients that send their
request slowly, or open a connection and send nothing, hold a few kilobytes each instead of
a worker (a sync or threaded worker reads the request's headers in the thread that will
serve it: as many trickling clients as threads stop the service). psycopg 3 waits
cooperatively under gevent only when it is first imported after the worker's
monkey-patching, so the master never imports it (`lindung serve` migrates in a child
process); SQLite calls block their worker while they run, which the embedded database's
short transactions allow.

Importing this module prepares PROMETHEUS_MULTIPROC_DIR before the application (and
prometheus_client) is imported, so every worker's metrics are merged on a scrape.
"""

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

# named here, not imported: importing prometheus_client before it is set would keep every
# worker's samples in the worker
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

if MULTIPROCESS_ENV in os.environ:
    _metrics_dir, _metrics_dir_is_ours = Path(os.environ[MULTIPROCESS_ENV]), False
else:
    # named after the master, removed as it exits
    _metrics_dir = Path(tempfile.gettempdir()) / f"lindung-metrics-{os.getpid()}"
    _metrics_dir_is_ours = True
    os.environ[MULTIPROCESS_ENV] = str(_metrics_dir)
# the master's own metrics (serve builds the app once to migrate) are written here at once
_metrics_dir.mkdir(mode=0o700, parents=True, exist_ok=True)


def _number(name: str, default: float, kind=int):
    return kind(os.environ.get(name, default))


wsgi_app = "api:create_app()"
bind = [f"{os.environ.get('LINDUNG_HOST', '127.0.0.1')}:{os.environ.get('LINDUNG_PORT', 5000)}"]

worker_class = os.environ.get("LINDUNG_WORKER_CLASS", "gevent")
workers = _number("LINDUNG_WORKERS", min(4, 2 * (os.cpu_count() or 1) + 1))
# gevent: connections served at once per worker (each needing a database connection waits
# for one of the pool's, see docs/observability.md); gthread: threads per worker
worker_connections = _number("LINDUNG_WORKER_CONNECTIONS", 1000)
threads = _number("LINDUNG_THREADS", 1)

# a worker silent this long (seconds) is killed and replaced: a request running longer,
# or an event loop blocked that long
timeout = _number("LINDUNG_TIMEOUT", 60)
# on SIGTERM a worker finishes its requests for this long (seconds) before it is killed
graceful_timeout = _number("LINDUNG_GRACEFUL_TIMEOUT", 30)
# an idle kept-alive connection is closed after this many seconds
keepalive = _number("LINDUNG_KEEPALIVE", 2)

# request size limits (gunicorn's defaults, written out: a report needs far less)
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# X-Forwarded-For/-Proto trusted from these addresses only (a proxy in front)
forwarded_allow_ips = os.environ.get("LINDUNG_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# JSON lines on standard error (app and gunicorn) and standard output (access log)
logger_class = "api.serving.access_log.JsonLogger"
loglevel = os.environ.get("LINDUNG_LOG_LEVEL", "info")
accesslog = os.environ.get("LINDUNG_ACCESS_LOG", "-")
errorlog = "-"

# gunicorn's control socket (gunicornc) only when asked for: its default path is one per
# user, which two servers on one machine would fight over
control_socket = os.environ.get("LINDUNG_CONTROL_SOCKET") or None
control_socket_disable = control_socket is None


def on_starting(server):
    """Start with no samples of an earlier run (prometheus_client's multiprocess rule)."""
    _metrics_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for sample_file in _metrics_dir.glob("*.db"):
        sample_file.unlink()


def child_exit(server, worker):
    """Drop an exited worker's live gauges (its pool is gone); its counters stay counted."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, str(_metrics_dir))


def worker_exit(server, worker):
    """A worker that stopped as asked leaves at once, skipping the interpreter's teardown:
    freeing every object of the application takes seconds of CPU, which hold up a shutdown
    or a rolling restart. Nothing is lost: the log handlers are flushed here, metric samples
    live in shared files, and the databases need no goodbye (PostgreSQL sees the socket
    close; SQLite's files are consistent after every commit). A worker that failed keeps the
    usual exit, and its exit status."""
    if worker.booted and not worker.alive:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def on_exit(server):
    if _metrics_dir_is_ours:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
