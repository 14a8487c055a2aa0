"""Prometheus metrics of the running service, served on GET /metrics.

The exporter is prometheus_client. Under gunicorn every worker is a process of its own:
`lindung serve` (api/serving/gunicorn_conf.py) sets PROMETHEUS_MULTIPROC_DIR before any of
this is imported, each process writes its samples there, and a scrape merges them
(prometheus_client "multiprocess mode"). Without it (tests, `flask run`) the samples live in
this process.

Labels never carry a child's data, an id or a query string: a request is labelled by its
route template (`/api/v1/cases/<uuid:case_id>`), its method and its status; a path that
matched no route is labelled `unmatched`.

Adding a metric
---------------
- A counter, histogram or gauge updated where something happens: define it here beside the
  others, with `registry=REGISTRY`, a name starting `lindung_`, a unit suffix (`_seconds`,
  `_bytes`, `_total` is added by Counter) and only bounded labels (an enum's values, a route
  template; never an id). A Gauge needs a `multiprocess_mode` (usually "livesum"). Expose a
  small function (like `count_idempotency_replay`) rather than the metric object, so callers
  stay one line.
- A value read from the database at scrape time (a backlog, a queue's oldest age): write a
  collector, an object whose `collect()` yields `prometheus_client.core` metric families, and
  call `register_collector(collector)` once at import time of your module. `collect()` runs
  inside the /metrics request, in its application context: read through
  `api.db.database().session(writes=False)` and close that session. It runs once per scrape in
  one worker, so its numbers are the database's, not a worker's; keep it to a few indexed
  queries.
"""

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine, event

from api.errors import problem

METRICS_PATH = "/metrics"
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# methods outside this set are counted as "other": a client may send any token there
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "lindung_http_requests", "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"], registry=REGISTRY)
REQUEST_SECONDS = Histogram(
    "lindung_http_request_duration_seconds",
    "Time from the start of the request's handling to its answer, in seconds.",
    ["route", "method", "status"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
AUDIT_CHAIN_WAIT_SECONDS = Histogram(
    "lindung_audit_chain_wait_seconds",
    "Time a sealer waited for its turn at the audit chain before sealing events, "
    "in seconds.", registry=REGISTRY,
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15))
IDEMPOTENCY_REPLAYS = Counter(
    "lindung_idempotency_replays",
    "Creating requests answered with the stored response of an earlier request with the "
    "same Idempotency-Key.", registry=REGISTRY)
POOL_CHECKED_OUT = Gauge(
    "lindung_db_pool_checked_out_connections",
    "Database connections in use by requests, summed over the live workers.",
    registry=REGISTRY, multiprocess_mode="livesum")
POOL_OPEN = Gauge(
    "lindung_db_pool_open_connections",
    "Database connections open (in use or idle in a pool), summed over the live workers.",
    registry=REGISTRY, multiprocess_mode="livesum")
POOL_CAPACITY = Gauge(
    "lindung_db_pool_capacity_connections",
    "Connections the pools may hold at most (size + overflow), summed over the live workers.",
    registry=REGISTRY, multiprocess_mode="livesum")

_collectors: list = []


def register_collector(collector) -> None:
    """Add COLLECTOR (an object with `collect()` yielding metric families) to every scrape;
    see the module docstring. Registering the same object twice has no effect."""
    if collector not in _collectors:
        _collectors.append(collector)


@contextmanager
def audit_chain_wait() -> Iterator[None]:
    """Time the block that takes the audit chain's turn (api/audit/sealer.py, seal_round)
    into lindung_audit_chain_wait_seconds."""
    started = time.perf_counter()
    try:
        yield
    finally:
        AUDIT_CHAIN_WAIT_SECONDS.observe(time.perf_counter() - started)


def count_idempotency_replay() -> None:
    """Count one answer replayed for a repeated Idempotency-Key."""
    IDEMPOTENCY_REPLAYS.inc()


def instrument_engine(engine: Engine) -> None:
    """Follow ENGINE's connection pool in the lindung_db_pool_* gauges (from its events, so
    a scrape in any worker sees every worker's pool)."""
    pool = engine.pool
    if hasattr(pool, "size") and hasattr(pool, "_max_overflow"):
        POOL_CAPACITY.inc(pool.size() + max(pool._max_overflow, 0))
    event.listen(pool, "checkout", lambda *_: POOL_CHECKED_OUT.inc())
    event.listen(pool, "checkin", lambda *_: POOL_CHECKED_OUT.dec())
    event.listen(pool, "connect", lambda *_: POOL_OPEN.inc())
    event.listen(pool, "close", lambda *_: POOL_OPEN.dec())
    event.listen(pool, "close_detached", lambda *_: POOL_OPEN.dec())


def exposition() -> bytes:
    """The text exposition of every metric (all workers' under gunicorn) and of the
    registered collectors."""
    registry = REGISTRY
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    text = generate_latest(registry)
    if _collectors:
        extra = CollectorRegistry(auto_describe=True)
        for collector in _collectors:
            extra.register(collector)
        text += generate_latest(extra)
    return text


def route_label() -> str:
    """The request's route template, never its path: a path holds ids."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def observe(response) -> None:
    """Count RESPONSE and the time since the request began, by route template, method and
    status."""
    started = g.pop("metrics_started", None)
    method = request.method if request.method in METHODS else "other"
    labels = (route_label(), method, str(response.status_code))
    REQUESTS.labels(*labels).inc()
    if started is not None:
        REQUEST_SECONDS.labels(*labels).observe(time.perf_counter() - started)


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def _forwarded() -> bool:
    """True when a proxy passed the request on: behind a proxy on this machine every caller
    looks local, so without a token a forwarded request is refused."""
    return any(name in request.headers for name in ("X-Forwarded-For", "Forwarded", "X-Real-IP"))


def metrics_view():
    """The metrics, to a scraper holding LINDUNG_METRICS_TOKEN as a bearer token; without a
    token configured, to callers on this machine only (401 / 403 otherwise)."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                 token.encode()):
            return problem(401, title="Unauthorized",
                           detail="Send the metrics token as a bearer token.",
                           headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    elif not _is_loopback(request.remote_addr) or _forwarded():
        return problem(403, title="Forbidden",
                       detail="Metrics are served to this machine only unless "
                              "LINDUNG_METRICS_TOKEN is set.")
    return exposition(), 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}


def init_app(app: Flask) -> None:
    """Start each request's timer, follow the pool, serve /metrics (outside /api/v1 and
    the OpenAPI document: it is for the operator's scraper). `observe` counts the answer."""
    app.config.setdefault("METRICS_TOKEN", os.environ.get("LINDUNG_METRICS_TOKEN") or None)
    app.before_request(_start_timer)
    bind = app.extensions["lindung.db"].bind
    if isinstance(bind, Engine):
        instrument_engine(bind)
    app.add_url_rule(METRICS_PATH, endpoint="metrics", view_func=metrics_view,
                     methods=["GET"])
