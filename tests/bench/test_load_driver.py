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
