"""Load test of the Lindung API at a million cases, beside a bare baseline measured in the
same run on the same PostgreSQL, under the same gunicorn settings.

    .venv/bin/python bench/load.py                          # 1,000,000 cases, 30 s a scenario
    .venv/bin/python bench/load.py --cases 20000 --duration 5 --warmup 2    # a quick run
    .venv/bin/python bench/load.py --prepare-only           # only make the databases

What it does, in order (bench/RESULTS.md, "Load at a million cases", shows a run):

1. The product's database (default `bench_load`): filled by bench/kla_bench.py's `fill`
   (cases, children, referrals, measurements by COPY) and marked with a comment naming the
   number of cases; a later run with the same --cases finds the mark and reuses it after
   `lindung db upgrade` (--refill fills anew). After a fill, or an upgrade that changed the
   schema, `lindung stats rebuild` runs when the installed version has it. The baseline's
   database (`<database>_baseline`): one table of as many rows as --cases, made the same way.
2. Lindung served by `lindung serve` (api/serving/gunicorn_conf.py: worker class, workers,
   threads from LINDUNG_WORKER_CLASS / LINDUNG_WORKERS / LINDUNG_THREADS, else the product's
   defaults), with `lindung audit seal --follow` sealing the audit chain during the load.
3. The baseline (bench/baseline_app.py: flask-smorest + SQLAlchemy + psycopg, insert one row,
   read one row by id) served by gunicorn with the same configuration module and variables.
4. Users and tokens made with the product's own service functions (api/auth/service.py); the
   ids, cursors and ETags the scenarios need fetched before the load. For the staff queue
   page (/app/kasus) the city caseworker gets a password the same way and signs in once
   through the login form; the load sends that session's cookie.
5. Each scenario driven by wrk (bench/wrk/*.lua) for --warmup seconds, unmeasured, then for
   --duration seconds, the product left to finish what wrk left unanswered before the next
   run; printed as a Markdown table of req/s, p50/p95/p99 latency, non-2xx answers, socket
   errors and the ratio to the baseline's insert (writes) or read (reads). For the queue
   page also its server time: p95 of duration_ms in the access log lines of its route
   written during the measured run.
6. Afterwards the audit chain sealed and `lindung audit verify` run against the checkpoints
   the sealer wrote. Exit status 1 when any request failed, a scenario got no answer at all,
   or the chain is not intact; every process started is stopped, also on Ctrl-C or failure.
"""

import argparse
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WRK_SCRIPTS = BENCH / "wrk"
# the `lindung` command of this checkout, whatever the venv's scripts folder holds
LINDUNG = [sys.executable, "-c",
           "import sys; from api.cli import main; sys.argv[0] = 'lindung'; main()"]
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
API = "/api/v1"

# the callers: Kota Balikpapan (6471), the city of the KLA scenario
CITY = "6471"
REPORT_VILLAGE = "6471011001"  # Manggar, Balikpapan Timur
WEIGHING_VILLAGE = "6471011002"  # Lamaru
SYNC_AGENCIES = ("DINKES", "DINSOS")
ACCEPTING_AGENCIES = ("UPTD_PPA", "DINSOS", "DINKES", "DISDIK")  # those bench fills refer to
USERS = (
    # username, role, areas, agency
    ("load_rt_head", "rt_head", (REPORT_VILLAGE,), None),
    ("load_posyandu_cadre", "posyandu_cadre", (WEIGHING_VILLAGE,), None),
    ("load_caseworker", "caseworker", (CITY,), None),
    *((f"load_system_{agency.lower()}", "agency_system", (), agency)
      for agency in ACCEPTING_AGENCIES),
)
KLA_PATH = f"{API}/stats/kla?area={CITY}&from=2025-01-01&to=2025-12-31"
DEEP_PAGE = 2000
# the staff console's queue (api/web/staff.py), signed in through its login form
LOGIN_PAGE = "/app/masuk"
QUEUE_PAGE = "/app/kasus"
QUEUE_DEEP_PAGE = 50  # pages of 50 followed by the "Berikutnya" link
WEB_USER = "load_caseworker"
RUN_TAG = "@RUN@"  # in a script's arguments: letters new to each wrk run


@dataclass(frozen=True)
class Scenario:
    """One measured load: NAME (for --scenarios), LABEL (the table's), TARGET "product" or
    "baseline", the baseline figure its ratio is taken to: "insert", "read" or None (a
    baseline row itself), and ROUTE, a route template whose server time (p95 of the access
    log's duration_ms) the table notes, or None."""

    name: str
    label: str
    target: str
    compared_to: str | None
    # the route template whose server time the access log gives (a note in the table)
    route: str | None = None


SCENARIOS = (
    Scenario("baseline_insert", "baseline: insert one row", "baseline", None),
    Scenario("baseline_read", "baseline: read one row by id", "baseline", None),
    Scenario("report", "report a case (POST /cases, Idempotency-Key, fresh child)", "product",
             "insert"),
    Scenario("weighing", "weighing (POST /measurements, fresh child)", "product", "insert"),
    Scenario("case_detail", "case detail (GET /cases/{id}, random case of the city)",
             "product", "read"),
    Scenario("list_first", "first list page (GET /cases, city caseworker)", "product", "read"),
    Scenario("list_deep", "deep list page (GET /cases, city caseworker)", "product", "read"),
    Scenario("agency_sync", "agency sync (GET /referrals?cursor=…, DINKES/DINSOS system)",
             "product", "read"),
    Scenario("transition", "referral accepted (POST /referrals/{id}/transitions, If-Match)",
             "product", "insert"),
    Scenario("kla", f"KLA city-year (GET /stats/kla, {CITY}, 2025)", "product", "read"),
    Scenario("queue_page", f"staff queue, first page (GET {QUEUE_PAGE}, city caseworker, "
             "session cookie)", "product", "read", route=QUEUE_PAGE),
    Scenario("queue_page_deep", f"staff queue, deep page (GET {QUEUE_PAGE}?cursor=…, city "
             "caseworker, session cookie)", "product", "read", route=QUEUE_PAGE),
)
SCENARIO_NAMES = tuple(scenario.name for scenario in SCENARIOS)


@dataclass
class Result:
    """One wrk run as read from the LOAD_RESULT line of bench/wrk/common.lua: REQUESTS done
    in DURATION_US microseconds, latency percentiles in microseconds, NON_2XX answers
    (status ≥ 400), SOCKET_ERRORS (connect, read, write, timeout), and THREADS_OUT_OF_POOL
    (threads of a use-once pool that ran out before the duration ended)."""

    requests: int
    duration_us: int
    p50_us: int
    p95_us: int
    p99_us: int
    non_2xx: int
    socket_errors: int
    threads_out_of_pool: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.requests / (self.duration_us / 1e6) if self.duration_us else 0.0

    @property
    def failed(self) -> int:
        return self.non_2xx + self.socket_errors


def parse_wrk(output: str) -> Result:
    """The Result in wrk's standard output (run with bench/wrk/common.lua's done()).
    ValueError when the line is missing (wrk failed before the end of its run)."""
    match = re.search(r"^LOAD_RESULT (\{.*\})\s*$", output, re.MULTILINE)
    if match is None:
        raise ValueError(f"no LOAD_RESULT line in wrk's output:\n{output}")
    figures = json.loads(match.group(1))
    return Result(
        requests=figures["requests"], duration_us=figures["duration_us"],
        p50_us=figures["p50_us"], p95_us=figures["p95_us"], p99_us=figures["p99_us"],
        non_2xx=figures["non_2xx"],
        socket_errors=sum(figures[kind] for kind in ("connect", "read", "write", "timeout")),
        threads_out_of_pool=figures.get("threads_out_of_pool", 0),
    )


def _ms(microseconds: int) -> str:
    return f"{microseconds / 1000:,.1f}"


def format_table(results: dict[str, Result]) -> str:
    """The Markdown table of RESULTS (scenario name → Result, in SCENARIOS order): req/s,
    latency percentiles in ms, failures, and req/s as a multiple of the baseline's insert
    (writes) or read (reads) when that baseline ran."""
    baseline = {"insert": results.get("baseline_insert"), "read": results.get("baseline_read")}
    lines = ["| scenario | req/s | p50 ms | p95 ms | p99 ms | non-2xx | socket errors "
             "| ratio to baseline |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for scenario in SCENARIOS:
        result = results.get(scenario.name)
        if result is None:
            continue
        reference = baseline.get(scenario.compared_to) if scenario.compared_to else None
        ratio = (f"{result.rate / reference.rate:.2f} × {scenario.compared_to}"
                 if reference is not None and reference.rate else "—")
        label = scenario.label + "".join(f" ({note})" for note in result.notes)
        lines.append(f"| {label} | {result.rate:,.1f} | {_ms(result.p50_us)} | "
                     f"{_ms(result.p95_us)} | {_ms(result.p99_us)} | {result.non_2xx} | "
                     f"{result.socket_errors} | {ratio} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000,
                        help="cases in the product's database, rows in the baseline's "
                             "(default 1,000,000)")
    parser.add_argument("--server", default=DEFAULT_SERVER,
                        help="any database URL of the PostgreSQL server to use")
    parser.add_argument("--database", default="bench_load",
                        help="the product's database; the baseline's is <database>_baseline")
    parser.add_argument("--refill", action="store_true",
                        help="fill anew even when a database of --cases cases exists")
    parser.add_argument("--duration", type=float, default=30, help="seconds a scenario")
    parser.add_argument("--warmup", type=float, default=5,
                        help="seconds of unmeasured load before each scenario")
    parser.add_argument("--connections", type=int, default=16,
                        help="open connections wrk keeps busy (default 16)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2,
                        help="wrk threads (default: the number of cores)")
    parser.add_argument("--timeout", type=float, default=30,
                        help="seconds wrk waits for an answer before counting a timeout")
    parser.add_argument("--scenarios", default=",".join(SCENARIO_NAMES),
                        type=_scenario_list,
                        help="comma-separated subset of: " + ", ".join(SCENARIO_NAMES))
    parser.add_argument("--transition-pool", type=int, default=2000,
                        help="pending referrals fetched (with their ETags) for the accept "
                             "scenario, each accepted once; a fifth go to the warm-up. When "
                             "the pool runs out first the run ends early, its rate still "
                             "true (default 2,000)")
    parser.add_argument("--prepare-only", action="store_true",
                        help="make (or upgrade) the two databases, then stop")
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep the servers' logs and the wrk input files")
    return parser.parse_args(argv)


def _scenario_list(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in SCENARIO_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown scenario(s) {', '.join(unknown) or '(none given)'}; "
            f"known: {', '.join(SCENARIO_NAMES)}")
    return names


# ---------- processes ----------

class Processes:
    """The processes this run started, each in a session of its own (so that gunicorn's
    workers go with their master); stopped in reverse order by stop_all()."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        log.close()  # the child holds its own descriptor
        self.running.append((name, process))
        return process

    def stop(self, process: subprocess.Popen, grace: float = 30) -> None:
        """SIGTERM to the process's group (gunicorn stops its workers gracefully), SIGKILL
        after GRACE seconds."""
        self.running = [(name, p) for name, p in self.running if p is not process]
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        for _, process in reversed(list(self.running)):
            self.stop(process)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_ready(url: str, process: subprocess.Popen, name: str, seconds: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with status {process.returncode} while starting")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{name} did not answer {url} within {seconds:.0f} s")


def _run(argv: list[str], env: dict, check: bool = True) -> subprocess.CompletedProcess:
    completed = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
    if check and completed.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({completed.returncode}):\n"
                           f"{completed.stdout}{completed.stderr}")
    return completed


# ---------- databases ----------

def _url(server: str, database: str) -> str:
    from sqlalchemy import make_url

    return make_url(server).set(database=database).render_as_string(hide_password=False)


def _database_mark(admin, database: str) -> str | None:
    from sqlalchemy import text

    with admin.connect() as connection:
        return connection.execute(text(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = :name"), {"name": database}).scalar()


def _recreate(admin, database: str) -> None:
    from sqlalchemy import text

    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))


def _mark(admin, database: str, mark: str) -> None:
    from sqlalchemy import text

    with admin.connect() as connection:
        connection.execute(text(f"COMMENT ON DATABASE \"{database}\" IS '{mark}'"))


def _revision(url: str) -> str | None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def prepare_product_database(args, admin, env: dict) -> bool:
    """Fill the product's database, or reuse the one of a run with as many cases; True when
    its data changed (a fill, or a migration), so that derived tables are rebuilt."""
    from sqlalchemy import create_engine

    sys.path.insert(0, str(BENCH))
    from kla_bench import fill

    url = env["LINDUNG_DATABASE_URL"]
    mark = f"lindung bench/load.py fill: {args.cases} cases"
    if not args.refill and _database_mark(admin, args.database) == mark:
        before = _revision(url)
        _run([*LINDUNG, "db", "upgrade"], env)
        print(f"reusing {args.database} ({args.cases:,} cases); schema {before}"
              f" → {_revision(url)}", flush=True)
        return _revision(url) != before
    print(f"filling {args.database} with {args.cases:,} cases …", flush=True)
    _recreate(admin, args.database)
    _run([*LINDUNG, "db", "upgrade"], env)
    engine = create_engine(url)
    started = time.perf_counter()
    try:
        loaded = fill(engine, args.cases)
    finally:
        engine.dispose()
    print(f"loaded {loaded} in {time.perf_counter() - started:.0f} s", flush=True)
    _mark(admin, args.database, mark)
    return True


def rebuild_rollups(env: dict) -> str:
    """`lindung stats rebuild` when this version has it; what it said, or why it did not run."""
    if _run([*LINDUNG, "stats", "rebuild", "--help"], env, check=False).returncode != 0:
        return "no `lindung stats rebuild` in this version: nothing to rebuild"
    started = time.perf_counter()
    output = _run([*LINDUNG, "stats", "rebuild"], env).stdout.strip()
    return f"lindung stats rebuild ({time.perf_counter() - started:.0f} s): {output}"


def prepare_baseline_database(args, admin) -> str:
    """The baseline's table of --cases rows (reused when a run made it with as many)."""
    from sqlalchemy import create_engine, text

    database = f"{args.database}_baseline"
    url = _url(args.server, database)
    mark = f"lindung bench/load.py baseline: {args.cases} rows"
    if not args.refill and _database_mark(admin, database) == mark:
        return url
    _recreate(admin, database)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(
                "CREATE TABLE items (id uuid PRIMARY KEY, name varchar(120) NOT NULL, "
                "village_code varchar(10) NOT NULL, created_at timestamptz NOT NULL)"))
            connection.execute(text(
                "INSERT INTO items SELECT gen_random_uuid(), 'Item ' || n, "
                "'6471011' || lpad((n % 1000)::text, 3, '0'), "
                "now() - n * interval '1 minute' FROM generate_series(1, :rows) AS n"),
                {"rows": args.cases})
            connection.execute(text("VACUUM ANALYZE items"))
    finally:
        engine.dispose()
    _mark(admin, database, mark)
    return url


# ---------- the scenarios' input ----------

def issue_tokens(env: dict) -> dict[str, str]:
    """A new API token for each of USERS, created first when missing, by the product's own
    service functions (api/auth/service.py)."""
    os.environ.update(env)  # create_app reads its configuration from the environment
    from api import create_app
    from api.auth import service
    from api.vocabularies.codes import Role

    app = create_app()
    tokens = {}
    with app.app_context(), app.extensions["lindung.db"].session() as session:
        for username, role, areas, agency in USERS:
            user = service.user_by_name(session=session, username=username)
            if user is None:
                user = service.create_user(session=session, username=username,
                                           role=Role(role), area_codes=list(areas),
                                           agency_code=agency)
            tokens[username] = service.issue_token(session=session, user=user)
        session.commit()
    app.extensions["lindung.db"].bind.dispose()
    return tokens


def _pool_line(method: str, path: str, token: str = "-", etag: str = "-",
               body: str = "-", cookie: str = "-") -> str:
    """A line of bench/wrk/pool.lua's pool: METHOD PATH TOKEN IF-MATCH BODY COOKIE, tab
    separated, "-" for none."""
    return "\t".join((method, path, token, etag, body, cookie))


def web_password(env: dict, username: str) -> str:
    """A new password for USERNAME (one of USERS, made by issue_tokens), set by the
    product's own service function (api/auth/service.py ensure_password); the password."""
    os.environ.update(env)
    from api import create_app
    from api.auth import service

    password = secrets.token_urlsafe(18)
    app = create_app()
    with app.app_context(), app.extensions["lindung.db"].session() as session:
        user = service.user_by_name(session=session, username=username)
        service.ensure_password(session=session, user=user, password=password)
        session.commit()
    app.extensions["lindung.db"].bind.dispose()
    return password


def csrf_token_of(html: str) -> str:
    """The CSRF token of a web page's form (hidden field csrf_token). ValueError if none."""
    found = re.search(r'name="csrf[-_]token" (?:value|content)="([^"]+)"', html)
    if found is None:
        raise ValueError("no CSRF token in the page")
    return found.group(1)


def web_sign_in(client, username: str, password: str) -> str:
    """Sign USERNAME in through the login form as a browser sent there from the queue does
    (GET LOGIN_PAGE for its CSRF token, then POST it with next=QUEUE_PAGE), open the queue
    page once (the session then holds everything a page adds to it, so the load's answers
    set no new cookie) and return the Cookie header a browser would send. RuntimeError when
    the login or the queue page fails."""
    form = client.get(LOGIN_PAGE)
    form.raise_for_status()
    answer = client.post(f"{LOGIN_PAGE}?next={QUEUE_PAGE}",
                         data={"csrf_token": csrf_token_of(form.text),
                               "username": username, "password": password})
    if answer.status_code != 303:
        raise RuntimeError(f"login of {username} answered {answer.status_code}")
    queue = client.get(QUEUE_PAGE)
    if queue.status_code != 200:
        raise RuntimeError(f"{QUEUE_PAGE} answered {queue.status_code} after the login")
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def next_page_link(html: str) -> str | None:
    """The path of the queue page's "Berikutnya" link (rel="next"), None on the last page."""
    import html as markup

    found = re.search(r'href="([^"]+)" rel="next"', html)
    return markup.unescape(found.group(1)) if found else None


def queue_deep_path(client, pages: int = QUEUE_DEEP_PAGE) -> tuple[str, str]:
    """The path of queue page PAGES (the last page, when the queue is shorter), reached by
    following the "Berikutnya" link from the first page with CLIENT (signed in by
    web_sign_in), and a note naming which page."""
    path, page = QUEUE_PAGE, 1
    while page < pages:
        answer = client.get(path)
        answer.raise_for_status()
        following = next_page_link(answer.text)
        if following is None:
            break
        path, page = following, page + 1
    return path, f"page {page:,} by cursor"


def log_size(path: Path) -> int:
    """Bytes in the log at PATH now (0 when there is none yet): where a run's lines start."""
    return path.stat().st_size if path.exists() else 0


def server_times(log: Path, start: int, route: str) -> tuple[list[float], int]:
    """The duration_ms of the access log lines of ROUTE (api/serving/access_log.py) written
    to LOG after byte START that answered 2xx, and how many answered a redirect (3xx: a lost
    session is sent to the login, which wrk does not count as an error; 4xx and 5xx it
    does)."""
    durations, redirects = [], 0
    with open(log, "rb") as lines:
        lines.seek(start)
        for raw in lines:
            try:
                line = json.loads(raw)
            except ValueError:
                continue  # not a log line of JSON (a traceback, a partial line)
            if not isinstance(line, dict) or line.get("route") != route \
                    or "duration_ms" not in line:
                continue
            status = line.get("status") or 0
            if 200 <= status < 300:
                durations.append(float(line["duration_ms"]))
            elif 300 <= status < 400:
                redirects += 1
    return durations, redirects


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank SHARE percentile (0 < SHARE ≤ 100) of VALUES. ValueError if empty."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(len(ordered) * share / 100))
    return ordered[rank - 1]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _sample(url: str, query: str, **parameters) -> list:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(query), parameters).all()
    finally:
        engine.dispose()


def _region_today():
    """Today in the reporting kelurahan's calendar (not the server's UTC date)."""
    from api.regions.calendar import today_in

    return today_in(REPORT_VILLAGE)


def deep_list_path(client, token: str) -> tuple[str, str]:
    """The path of page DEEP_PAGE (or the last page, when the list is shorter) of the
    caseworker's case list, and a note naming what it is: by keyset cursor when the list
    answers with next_cursor (the cursor taken from page DEEP_PAGE - 1 asked for by number,
    or walked to page by page), else page=N."""
    headers = {"Authorization": f"Bearer {token}"}
    answer = client.get(f"{API}/cases", headers=headers)
    answer.raise_for_status()
    paging = json.loads(answer.headers.get("X-Pagination", "{}"))
    if "next_cursor" not in paging:
        last = paging.get("total_pages") or 1
        page = min(DEEP_PAGE, last)
        return f"{API}/cases?page={page}", f"page={page:,}, OFFSET"
    # the cursor of page DEEP_PAGE, from the page before it by number (OFFSET, once)
    answer = client.get(f"{API}/cases", params={"page": DEEP_PAGE - 1}, headers=headers)
    if answer.status_code == 200 and answer.json():
        jump = json.loads(answer.headers["X-Pagination"]).get("next_cursor")
        if jump:
            return f"{API}/cases?cursor={jump}", f"page {DEEP_PAGE:,} by cursor"
    # a shorter list (or one without page numbers): its last page, walked to by cursor
    page, cursor = 1, paging["next_cursor"]
    started = time.perf_counter()
    while cursor and page + 1 < DEEP_PAGE:
        answer = client.get(f"{API}/cases", params={"cursor": cursor}, headers=headers)
        answer.raise_for_status()
        following = json.loads(answer.headers["X-Pagination"]).get("next_cursor")
        if not following:
            break
        page, cursor = page + 1, following
    print(f"  walked {page + 1:,} pages by cursor in {time.perf_counter() - started:.0f} s",
          flush=True)
    return f"{API}/cases?cursor={cursor}", f"page {page + 1:,} by cursor"


def sync_cursors(client, tokens: dict[str, str], pages: int) -> list[str]:
    """Pool lines of the agencies' referral feeds: the cursors of their first PAGES pages of
    100 (a system syncing from where it stopped)."""
    lines = []
    for agency in SYNC_AGENCIES:
        token = tokens[f"load_system_{agency.lower()}"]
        cursor = None
        for _ in range(pages):
            answer = client.get(f"{API}/referrals", params={
                "page_size": 100, **({"cursor": cursor} if cursor else {})},
                headers={"Authorization": f"Bearer {token}"})
            answer.raise_for_status()
            following = json.loads(answer.headers["X-Pagination"])["next_cursor"]
            if not answer.json() or following == cursor:
                break
            cursor = following
            lines.append(_pool_line("GET", f"{API}/referrals?page_size=100&cursor={cursor}",
                                    token))
    return lines


def transition_pool(client, url: str, tokens: dict[str, str], size: int) -> list[str]:
    """Pool lines accepting SIZE pending referrals (fewer when fewer are pending), each with
    the ETag its agency's system reads now."""
    rows = _sample(url, "SELECT id, agency_code FROM referrals WHERE status = 'pending' "
                        "AND agency_code = ANY(:agencies) ORDER BY random() LIMIT :size",
                   agencies=list(ACCEPTING_AGENCIES), size=size) if size else []

    def accept(row) -> str:
        token = tokens[f"load_system_{row.agency_code.lower()}"]
        path = f"{API}/referrals/{row.id}"
        answer = client.get(path, headers={"Authorization": f"Bearer {token}"})
        answer.raise_for_status()
        return _pool_line("POST", f"{path}/transitions", token, answer.headers["ETag"],
                          '{"to":"accepted"}')

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(accept, rows))


# ---------- the run ----------

def wrk(args, url: str, script: str, script_args: list[str], seconds: float,
        output: Path | None = None) -> Result:
    """One wrk run against URL with bench/wrk/SCRIPT and SCRIPT_ARGS (RUN_TAG among them
    replaced by letters new to this run)."""
    # a tag of its own for each run: a warm-up's Idempotency-Keys must not come back
    tag = "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))
    argv = ["wrk", f"-t{wrk_threads(args)}", f"-c{args.connections}",
            f"-d{max(1, round(seconds))}s", f"--timeout={args.timeout:g}s", "--latency",
            "-s", script, url, "--", *(tag if value == RUN_TAG else value
                                       for value in script_args)]
    completed = subprocess.run(argv, cwd=WRK_SCRIPTS, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr}")
    if output is not None:
        output.write_text(completed.stdout)
    return parse_wrk(completed.stdout)


def wrk_threads(args) -> int:
    """wrk's threads: no more than connections (each thread keeps at least one)."""
    return max(1, min(args.threads, args.connections))


def drain(base: str, metrics_token: str, seconds: float = 300) -> float:
    """Wait until no request of the product holds a database connection (the gauge
    lindung_db_pool_checked_out_connections of GET /metrics is 0 twice in a row): wrk
    leaves its unanswered requests behind, and a gevent worker finishes them, which would
    slow the next scenario down. The seconds waited; a warning after SECONDS."""
    import httpx

    started, idle = time.monotonic(), 0
    while time.monotonic() - started < seconds:
        answer = httpx.get(f"{base}/metrics", timeout=30,
                           headers={"Authorization": f"Bearer {metrics_token}"})
        if answer.status_code != 200:
            return 0.0  # a version without metrics: nothing to wait for
        found = re.search(r"^lindung_db_pool_checked_out_connections(?:\{[^}]*\})? (\S+)$",
                          answer.text, re.MULTILINE)
        if found is None:
            return 0.0  # a version without the gauge: nothing to wait for
        idle = idle + 1 if float(found.group(1)) <= 0 else 0
        if idle >= 2:
            return time.monotonic() - started
        time.sleep(0.5)
    print(f"  warning: requests still running {seconds:.0f} s after the load stopped",
          file=sys.stderr, flush=True)
    return seconds


def machine_description(url: str) -> str:
    """One line: cores, CPU model, memory, PostgreSQL version, load average now."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        model = found.group(1).strip() if found else model
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"^MemTotal:\s*(\d+) kB", meminfo.read_text(), re.MULTILINE)
        memory = f", {int(found.group(1)) / 2**20:.0f} GB RAM" if found else ""
    version = _sample(url, "SHOW server_version")[0][0]
    load = ", load average before the run {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    return (f"{os.cpu_count()} cores ({model}){memory}, {platform.system()} "
            f"{platform.release()}, PostgreSQL {version}{load}")


def serving_settings(env: dict, scratch: Path) -> str:
    """The gunicorn settings api/serving/gunicorn_conf.py derives from ENV (read in a process
    of its own, its metrics folder in SCRATCH)."""
    probe = _run([sys.executable, "-c",
                  "from api.serving import gunicorn_conf as g; "
                  "print(g.worker_class, g.workers, g.threads, g.worker_connections)"],
                 {**env, "PROMETHEUS_MULTIPROC_DIR": str(scratch)})
    worker_class, workers, threads, connections = probe.stdout.split()
    per_worker = (f"{connections} connections each" if worker_class == "gevent"
                  else f"{threads} threads each")
    return f"gunicorn, {workers} {worker_class} workers, {per_worker}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    run_dir = Path(tempfile.mkdtemp(prefix="lindung-load-"))
    processes = Processes(run_dir)
    # Ctrl-C and SIGTERM raise KeyboardInterrupt, so that `finally` stops every process
    # started (SIGINT set here too: a shell's background job inherits it ignored)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    ok = False
    try:
        ok = run(args, run_dir, processes)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    finally:
        processes.stop_all()
        if ok and not args.keep_logs:
            shutil.rmtree(run_dir, ignore_errors=True)
        else:
            print(f"logs and inputs kept in {run_dir}", file=sys.stderr)
    return 0 if ok else 1


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run(args, run_dir: Path, processes: Processes) -> bool:
    """The whole run (module docstring); True when every request succeeded and the audit
    chain verified."""
    import httpx
    from sqlalchemy import create_engine

    admin = create_engine(args.server, isolation_level="AUTOCOMMIT")
    product_url = _url(args.server, args.database)
    checkpoints = run_dir / "audit-checkpoints.jsonl"
    env = {**os.environ,
           "LINDUNG_DATABASE_URL": product_url,
           # fixed per database: the audit chain of an earlier run on it must verify
           "LINDUNG_SECRET_KEY": f"bench-{args.database}-not-a-secret",
           "LINDUNG_INSTANCE_PATH": str(run_dir / "instance"),
           "LINDUNG_AUDIT_CHECKPOINTS": str(checkpoints),
           "LINDUNG_HOST": "127.0.0.1",
           "LINDUNG_METRICS_TOKEN": secrets.token_urlsafe(24)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    try:
        changed = prepare_product_database(args, admin, env)
        if changed:
            print(rebuild_rollups(env), flush=True)
        baseline_url = prepare_baseline_database(args, admin)
    finally:
        admin.dispose()
    if args.prepare_only:
        return True
    machine = machine_description(product_url)
    settings = serving_settings(env, run_dir / "probe-metrics")
    tokens = issue_tokens(env)
    queues = {"queue_page", "queue_page_deep"} & set(args.scenarios)
    password = web_password(env, WEB_USER) if queues else None

    product_port, baseline_port = _free_port(), _free_port()
    product_env = {**env, "LINDUNG_PORT": str(product_port)}
    product = processes.start("lindung", [*LINDUNG, "serve"], product_env)
    processes.start("sealer", [*LINDUNG, "audit", "seal", "--follow"], env)
    baseline_env = {**env, "LINDUNG_PORT": str(baseline_port),
                    "BASELINE_DATABASE_URL": baseline_url,
                    "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT)])}
    baseline = processes.start("baseline", [
        sys.executable, "-m", "gunicorn", "-c", "python:api.serving.gunicorn_conf",
        "baseline_app:create_app()"], baseline_env)
    product_base = f"http://127.0.0.1:{product_port}"
    baseline_base = f"http://127.0.0.1:{baseline_port}"
    _wait_ready(f"{product_base}{API}/health/live", product, "lindung serve")
    _wait_ready(f"{baseline_base}/health", baseline, "the baseline")

    print("preparing the scenarios' input …", flush=True)
    today = _region_today()
    caseworker = tokens["load_caseworker"]
    tag = RUN_TAG
    # name → (script, its arguments, a note for the table); None: no warm-up
    inputs: dict[str, tuple[str, list[str], str] | None] = {}
    total = args.warmup + args.duration
    with httpx.Client(base_url=product_base, timeout=120) as client:
        report = {"category": "violence", "violence_types": ["physical"],
                  "village_code": REPORT_VILLAGE, "rt": "3", "rw": "1",
                  "description": "Anak terlihat memar; laporan uji beban.",
                  "child": {"name": "Anak Uji @NAME@", "sex": "male", "age_months": "@AGE@"}}
        weighing = {"child": {"name": "Anak Timbang @NAME@", "sex": "female",
                              "birth_date": (today - timedelta(days=730)).isoformat(),
                              "village_code": WEIGHING_VILLAGE},
                    "measured_on": today.isoformat(), "weight_kg": 10.8, "height_cm": 84.5,
                    "position": "standing"}
        inputs["report"] = ("create.lua", [
            f"{API}/cases", str(_write(run_dir / "report.json", [
                json.dumps(report).replace('"@AGE@"', "@AGE@")])),  # a number in the JSON
            tokens["load_rt_head"], tag], "")
        inputs["weighing"] = ("create.lua", [
            f"{API}/measurements", str(_write(run_dir / "weighing.json",
                                              [json.dumps(weighing)])),
            tokens["load_posyandu_cadre"], tag], "")
        case_ids = _sample(product_url, "SELECT id FROM cases WHERE village_code LIKE :city "
                                        "ORDER BY random() LIMIT 5000", city=f"{CITY}%")
        inputs["case_detail"] = _random_pool(run_dir, "case_detail", [
            _pool_line("GET", f"{API}/cases/{row.id}", caseworker) for row in case_ids])
        inputs["list_first"] = _random_pool(run_dir, "list_first", [
            _pool_line("GET", f"{API}/cases", caseworker)])
        if "list_deep" in args.scenarios:
            path, note = deep_list_path(client, caseworker)
            inputs["list_deep"] = _random_pool(run_dir, "list_deep", [
                _pool_line("GET", path, caseworker)], note)
        if "agency_sync" in args.scenarios:
            inputs["agency_sync"] = _random_pool(run_dir, "agency_sync",
                                                 sync_cursors(client, tokens, pages=20))
        if "transition" in args.scenarios:
            started = time.perf_counter()
            lines = transition_pool(client, product_url, tokens, args.transition_pool)
            print(f"  {len(lines):,} pending referrals and their ETags fetched in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
            # the warm-up accepts referrals of its own: none may be accepted twice
            share = (max(1, round(len(lines) * min(0.2, args.warmup / total)))
                     if args.warmup > 0 and len(lines) > 1 else 0)
            inputs["transition_warmup"] = ("pool.lua", [
                str(_write(run_dir / "transition_warmup.tsv", lines[:share])),
                "once", str(wrk_threads(args))], "") if share else None
            inputs["transition"] = ("pool.lua", [
                str(_write(run_dir / "transition.tsv", lines[share:])), "once",
                str(wrk_threads(args))], f"pool of {len(lines) - share:,} pending referrals")
        inputs["kla"] = _random_pool(run_dir, "kla", [_pool_line("GET", KLA_PATH, caseworker)])
    if queues:
        # a browser of its own: the session cookie is the one thing the load sends
        with httpx.Client(base_url=product_base, timeout=120) as browser:
            cookie = web_sign_in(browser, WEB_USER, password)
            inputs["queue_page"] = _random_pool(run_dir, "queue_page", [
                _pool_line("GET", QUEUE_PAGE, cookie=cookie)])
            if "queue_page_deep" in queues:
                path, note = queue_deep_path(browser)
                inputs["queue_page_deep"] = _random_pool(run_dir, "queue_page_deep", [
                    _pool_line("GET", path, cookie=cookie)], note)
    inputs["baseline_insert"] = ("create.lua", ["/items", str(_write(
        run_dir / "item.json", [json.dumps({"name": "@NAME@",
                                            "village_code": REPORT_VILLAGE})])), "-", tag], "")
    item_ids = _sample(baseline_url, "SELECT id FROM items ORDER BY random() LIMIT 5000")
    inputs["baseline_read"] = _random_pool(run_dir, "baseline_read", [
        _pool_line("GET", f"/items/{row.id}") for row in item_ids])

    print(f"\n{machine}\n{settings}; wrk {wrk_threads(args)} threads, {args.connections} "
          f"connections, {args.warmup:g} s warm-up + {args.duration:g} s a scenario\n",
          flush=True)
    results: dict[str, Result] = {}
    access_log = run_dir / "lindung.log"  # `lindung serve`'s output, its access log in it
    for scenario in SCENARIOS:
        if scenario.name not in args.scenarios:
            continue
        base = baseline_base if scenario.target == "baseline" else product_base
        script, script_args, note = inputs[scenario.name]
        warmup = inputs.get(f"{scenario.name}_warmup", inputs[scenario.name])
        drains = scenario.target == "product"
        if args.warmup > 0 and warmup is not None:
            wrk(args, base, warmup[0], warmup[1], args.warmup)
            if drains:
                drain(product_base, env["LINDUNG_METRICS_TOKEN"])
        log_start = log_size(access_log)
        result = wrk(args, base, script, script_args, args.duration,
                     output=run_dir / f"{scenario.name}.wrk.txt")
        waited = drain(product_base, env["LINDUNG_METRICS_TOKEN"]) if drains else 0.0
        if note:
            result.notes.append(note)
        if scenario.route is not None:
            note_server_time(result, access_log, log_start, scenario.route)
        if waited >= 1:
            result.notes.append(f"left work for {waited:.0f} s")
        if result.requests == 0:
            result.notes.append("no answer within the run")
        if result.threads_out_of_pool:
            result.notes.append(f"pool used up in {result.duration_us / 1e6:.0f} s")
        results[scenario.name] = result
        print(f"  {scenario.name:<16} {result.rate:9.1f} req/s  p50 {_ms(result.p50_us)} ms  "
              f"p95 {_ms(result.p95_us)} ms  p99 {_ms(result.p99_us)} ms  "
              f"failed {result.failed}", flush=True)

    processes.stop(product)
    processes.stop(baseline)
    for name, process in list(processes.running):
        if name == "sealer":
            processes.stop(process)
    sealed = _run([*LINDUNG, "audit", "seal"], env)
    verified = _run([*LINDUNG, "audit", "verify", "--checkpoints", str(checkpoints)], env,
                    check=False)
    failed = sum(result.failed for result in results.values())
    unanswered = [name for name, result in results.items() if result.requests == 0]

    print(f"\n### Load at {args.cases:,} cases\n\nMachine: {machine}.  \nServing: {settings} "
          f"(product and baseline alike).  \nLoad: wrk, {args.connections} connections, "
          f"{wrk_threads(args)} threads, {args.warmup:g} s warm-up then {args.duration:g} s per "
          f"scenario.\n")
    print(format_table(results))
    print(f"\n{sealed.stdout.strip()}\n$ lindung audit verify\n{verified.stdout.strip()}"
          f"{verified.stderr.strip()}")
    if failed:
        print(f"\nFAILED: {failed} requests answered non-2xx or failed (logs: {run_dir})",
              file=sys.stderr)
    if unanswered:
        print(f"\nFAILED: no answer within the run for {', '.join(unanswered)}",
              file=sys.stderr)
    if verified.returncode != 0 or "audit chain intact" not in verified.stdout:
        print("\nFAILED: the audit chain did not verify", file=sys.stderr)
        return False
    return failed == 0 and not unanswered


def note_server_time(result: Result, log: Path, start: int, route: str) -> None:
    """Note in RESULT the server time of ROUTE in the access log LOG after byte START (the
    measured run's lines: its warm-up drained before START): p95 of duration_ms over the
    2xx answers. Redirects (to the login, when the session is lost) are counted among
    RESULT's non-2xx: the page was not served."""
    durations, redirects = server_times(log, start, route)
    if durations:
        result.notes.append(f"server p95 {percentile(durations, 95):,.1f} ms over "
                            f"{len(durations):,} answers, access log")
    else:
        result.notes.append("no access log line of the route")
    if redirects:
        result.non_2xx += redirects
        result.notes.append(f"{redirects:,} answered with a redirect")


def _random_pool(run_dir: Path, name: str, lines: list[str],
                 note: str = "") -> tuple[str, list[str], str]:
    if not lines:
        raise RuntimeError(f"nothing to request for {name}: is the database filled?")
    return "pool.lua", [str(_write(run_dir / f"{name}.tsv", lines)), "random", "1"], note


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
