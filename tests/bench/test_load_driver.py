"""bench/load.py without a load run: its arguments, how it reads wrk's output, its table."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# what wrk 4.1 prints for a run with bench/wrk/common.lua's done()
WRK_OUTPUT = """\
Running 30s test @ http://127.0.0.1:40123
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    21.07ms    9.40ms 112.93ms   71.24%
    Req/Sec   382.35     40.12   480.00     70.50%
  Latency Distribution
     50%   19.52ms
     75%   25.90ms
     90%   33.16ms
     99%   52.88ms
  22871 requests in 30.01s, 9.12MB read
  Non-2xx or 3xx responses: 3
Requests/sec:    762.12
Transfer/sec:    311.30KB
LOAD_RESULT {"requests":22871,"duration_us":30010000,"p50_us":19520,"p95_us":40110,\
"p99_us":52880,"max_us":112930,"non_2xx":3,"connect":0,"read":1,"write":0,"timeout":2,\
"threads_out_of_pool":0}
"""


@pytest.fixture(scope="module")
def load():
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _result(load, requests, seconds=10.0, p50_ms=10.0, non_2xx=0, notes=()):
    return load.Result(requests=requests, duration_us=int(seconds * 1e6),
                       p50_us=int(p50_ms * 1000), p95_us=int(p50_ms * 2000),
                       p99_us=int(p50_ms * 3000), non_2xx=non_2xx, socket_errors=0,
                       notes=list(notes))


def test_defaults_are_the_million_case_run(load):
    args = load.parse_args([])
    assert (args.cases, args.connections, args.duration, args.warmup) == (1_000_000, 16, 30, 5)
    assert args.database.startswith("bench_")
    assert args.scenarios == load.SCENARIO_NAMES


def test_a_quick_run_and_a_subset_of_scenarios(load):
    args = load.parse_args(["--cases", "20000", "--duration", "5", "--warmup", "1",
                            "--scenarios", "report, baseline_insert"])
    assert (args.cases, args.duration, args.warmup) == (20000, 5, 1)
    assert args.scenarios == ("report", "baseline_insert")


def test_an_unknown_scenario_is_refused(load, capsys):
    with pytest.raises(SystemExit) as stopped:
        load.parse_args(["--scenarios", "report,reprot"])
    assert stopped.value.code == 2
    assert "unknown scenario(s) reprot" in capsys.readouterr().err


def test_wrk_output_is_read_from_the_result_line(load):
    result = load.parse_wrk(WRK_OUTPUT)
    assert result.requests == 22871
    assert result.rate == pytest.approx(762.1, abs=0.1)
    assert (result.p50_us, result.p95_us, result.p99_us) == (19520, 40110, 52880)
    assert result.non_2xx == 3
    assert result.socket_errors == 3  # one read error, two timeouts
    assert result.failed == 6


def test_wrk_output_without_the_result_line_is_an_error(load):
    with pytest.raises(ValueError, match="no LOAD_RESULT line"):
        load.parse_wrk(WRK_OUTPUT.split("LOAD_RESULT")[0])


def test_table_gives_ratios_to_the_baseline_insert_and_read(load):
    table = load.format_table({
        "baseline_insert": _result(load, 6000),  # 600 req/s
        "baseline_read": _result(load, 8000),  # 800 req/s
        "report": _result(load, 3000, p50_ms=25.0),  # 300 req/s
        "case_detail": _result(load, 4000),  # 400 req/s
        "transition": _result(load, 1500, seconds=5.0, non_2xx=2,
                              notes=["pool used up in 5 s"]),  # 300 req/s
    }).splitlines()
    assert table[0].startswith("| scenario | req/s | p50 ms | p95 ms | p99 ms | non-2xx |")
    assert table[1] == "|---|---:|---:|---:|---:|---:|---:|---:|"
    rows = {line.split(" | ")[0].lstrip("| "): line.strip("| ").split(" | ")
            for line in table[2:]}
    assert len(rows) == 5
    report = rows["report a case (POST /cases, Idempotency-Key, fresh child)"]
    assert report[1:] == ["300.0", "25.0", "50.0", "75.0", "0", "0", "0.50 × insert"]
    detail = rows["case detail (GET /cases/{id}, random case of the city)"]
    assert detail[-1] == "0.50 × read"
    transition = next(row for label, row in rows.items() if label.startswith("referral"))
    assert transition[0].endswith("(pool used up in 5 s)")
    assert transition[5] == "2" and transition[-1] == "0.50 × insert"
    baseline = rows["baseline: insert one row"]
    assert baseline[1] == "600.0" and baseline[-1] == "—"


def test_table_without_a_baseline_has_no_ratio(load):
    table = load.format_table({"kla": _result(load, 20, seconds=10.0, p50_ms=1500.0)})
    row = table.splitlines()[2]
    assert row.startswith("| KLA city-year")
    assert row.endswith("| 2.0 | 1,500.0 | 3,000.0 | 4,500.0 | 0 | 0 | — |")


class _Answer:
    def __init__(self, rows, paging, status=200):
        self.status_code, self._rows = status, rows
        self.headers = {"X-Pagination": json.dumps(paging)}

    def json(self):
        return self._rows

    def raise_for_status(self):
        assert self.status_code == 200


class _Cases:
    """GET /cases of a list of PAGES pages, answering like the API (cursor "c<n>" = after
    page n; page=N by number)."""

    def __init__(self, pages, keyset=True):
        self.pages, self.keyset, self.asked = pages, keyset, []

    def get(self, path, params=None, headers=None):
        params = params or {}
        self.asked.append(params)
        if not self.keyset:
            return _Answer([{}], {"total_pages": self.pages})
        number = (int(params["cursor"][1:]) + 1 if "cursor" in params
                  else params.get("page", 1))
        if number > self.pages:
            return _Answer([], {"next_cursor": None})
        return _Answer([{}], {"next_cursor": f"c{number}" if number < self.pages else None})


def test_deep_page_cursor_comes_from_the_page_before_it(load):
    client = _Cases(pages=5000)
    path, note = load.deep_list_path(client, "token")
    assert path == f"/api/v1/cases?cursor=c{load.DEEP_PAGE - 1}"
    assert note == "page 2,000 by cursor"
    assert len(client.asked) == 2  # the first page, then page 1,999 by number


def test_deep_page_of_a_shorter_list_is_its_last_page(load):
    client = _Cases(pages=30)
    path, note = load.deep_list_path(client, "token")
    assert path == "/api/v1/cases?cursor=c29"
    assert note == "page 30 by cursor"


def test_deep_page_without_cursors_is_asked_by_number(load):
    path, note = load.deep_list_path(_Cases(pages=124, keyset=False), "token")
    assert (path, note) == ("/api/v1/cases?page=124", "page=124, OFFSET")


def test_queue_scenarios_are_chosen_by_name_and_timed_on_their_route(load):
    args = load.parse_args(["--scenarios", "baseline_read,queue_page,queue_page_deep"])
    assert args.scenarios == ("baseline_read", "queue_page", "queue_page_deep")
    routes = {scenario.name: scenario.route for scenario in load.SCENARIOS}
    assert routes["queue_page"] == routes["queue_page_deep"] == "/app/kasus"
    assert routes["list_first"] is None


def test_pool_line_carries_a_session_cookie_in_its_sixth_field(load):
    line = load._pool_line("GET", "/app/kasus", cookie="lindung_web=abc.def")
    assert line.split("\t") == ["GET", "/app/kasus", "-", "-", "-", "lindung_web=abc.def"]
    assert load._pool_line("GET", "/api/v1/cases", "tok").split("\t")[2:] == [
        "tok", "-", "-", "-"]


def test_pool_script_sends_the_cookie_and_asks_for_html():
    script = (ROOT / "bench" / "wrk" / "pool.lua").read_text()
    assert 'headers["Cookie"] = fields[6]' in script
    assert 'headers["Accept"] = "text/html"' in script


LOGIN_FORM = ('<form method="post"><input type="hidden" name="csrf_token" '
              'value="tok-123"><input name="username"></form>')


class _Response:
    def __init__(self, status=200, text=""):
        self.status_code, self.text = status, text

    def raise_for_status(self):
        assert self.status_code == 200


class _Browser:
    """The web app's login and queue pages as a signed-in browser sees them: the queue has
    PAGES pages, each linking the next with cursor "c<n>"."""

    def __init__(self, pages=3, login_status=303, queue_status=200):
        self.pages, self.login_status, self.queue_status = pages, login_status, queue_status
        self.cookies, self.asked, self.posted = {}, [], []

    def get(self, path):
        self.asked.append(path)
        if path == "/app/masuk":
            return _Response(text=LOGIN_FORM)
        number = int(path.split("cursor=c")[1]) + 1 if "cursor=" in path else 1
        link = (f'<a class="button secondary" href="/app/kasus?status=open&amp;'
                f'cursor=c{number}" rel="next">Berikutnya</a>' if number < self.pages else "")
        return _Response(self.queue_status, f"<table></table>{link}")

    def post(self, path, data):
        self.posted.append((path, data))
        if self.login_status == 303:
            self.cookies["lindung_web"] = "signed.value"
        return _Response(self.login_status)


def test_sign_in_posts_the_form_with_its_csrf_token_and_returns_the_cookie(load):
    browser = _Browser()
    cookie = load.web_sign_in(browser, "load_caseworker", "a-long-password")
    assert cookie == "lindung_web=signed.value"
    assert browser.posted == [("/app/masuk?next=/app/kasus", {"csrf_token": "tok-123",
                                              "username": "load_caseworker",
                                              "password": "a-long-password"})]
    assert browser.asked == ["/app/masuk", "/app/kasus"]


def test_a_refused_login_or_queue_page_stops_the_run(load):
    with pytest.raises(RuntimeError, match="login of load_caseworker answered 401"):
        load.web_sign_in(_Browser(login_status=401), "load_caseworker", "wrong-password")
    with pytest.raises(RuntimeError, match="/app/kasus answered 302"):
        load.web_sign_in(_Browser(queue_status=302), "load_caseworker", "a-long-password")
    with pytest.raises(ValueError, match="no CSRF token"):
        load.csrf_token_of("<form></form>")


def test_deep_queue_page_follows_the_next_links(load):
    browser = _Browser(pages=500)
    path, note = load.queue_deep_path(browser, pages=50)
    assert path == "/app/kasus?status=open&cursor=c49"  # the link unescaped
    assert note == "page 50 by cursor"
    assert len(browser.asked) == 49


def test_deep_queue_page_of_a_shorter_queue_is_its_last_page(load):
    path, note = load.queue_deep_path(_Browser(pages=7), pages=50)
    assert (path, note) == ("/app/kasus?status=open&cursor=c6", "page 7 by cursor")
    assert load.next_page_link("<p>no link</p>") is None


def _log_line(route, status, duration_ms):
    return json.dumps({"message": f"GET {route} {status}", "route": route,
                       "status": status, "duration_ms": duration_ms}) + "\n"


def test_server_time_is_read_from_the_access_log_after_the_run_started(load, tmp_path):
    log = tmp_path / "lindung.log"
    log.write_text(_log_line("/app/kasus", 200, 9999.0))  # the warm-up: not counted
    start = load.log_size(log)
    assert start == len(log.read_bytes())
    with log.open("a") as out:
        out.write("Traceback (most recent call last):\n")
        out.write(_log_line("/metrics", 200, 5000.0))  # another route
        for duration in range(1, 101):  # 1 … 100 ms
            out.write(_log_line("/app/kasus", 200, float(duration)))
        out.write(_log_line("/app/kasus", 302, 1.0))  # a lost session
    durations, redirects = load.server_times(log, start, "/app/kasus")
    assert len(durations) == 100 and max(durations) == 100.0
    assert redirects == 1
    assert load.percentile(durations, 95) == 95.0
    result = load.Result(requests=101, duration_us=10_000_000, p50_us=1, p95_us=1,
                         p99_us=1, non_2xx=0, socket_errors=0)
    load.note_server_time(result, log, start, "/app/kasus")
    assert result.notes == ["server p95 95.0 ms over 100 answers, access log",
                            "1 answered with a redirect"]
    assert result.non_2xx == 1 and result.failed == 1


def test_percentile_is_by_nearest_rank(load):
    assert load.percentile([300.0], 95) == 300.0
    assert load.percentile([float(n) for n in range(1, 21)], 95) == 19.0
    assert load.percentile([3.0, 1.0, 2.0], 100) == 3.0
    with pytest.raises(ValueError):
        load.percentile([], 95)
    assert load.log_size(Path("/nonexistent/lindung.log")) == 0


def test_table_shows_the_queue_page_with_its_server_time(load):
    table = load.format_table({
        "baseline_read": _result(load, 8000),
        "queue_page": _result(load, 400, notes=["server p95 95.0 ms over 400 answers, "
                                                 "access log"]),
    })
    row = table.splitlines()[3]
    assert row.startswith("| staff queue, first page (GET /app/kasus")
    assert "(server p95 95.0 ms over 400 answers, access log)" in row
    assert row.endswith("| 0.05 × read |")
