"""The SQL statements each operation runs, counted and kept small (issue 13: work per
request): a table of maxima that fails when an operation's count grows, and the same count
for a child reported twice before as for one reported thirty times (possible duplicates,
timeline steps and referrals of the earlier reports cost nothing per request)."""

import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from api.regions import calendar
from tests.conftest import BALIKPAPAN, LAMARU, MANGGAR, child_report

# the most statements each operation may run, every one counted but the tests' savepoints:
# the token's lookup, the request's own, the audit event and its sealing (PostgreSQL seals
# after the answer, in a transaction of its own). Lower a figure when an operation gets
# cheaper; a figure that must grow needs a reason in the commit that raises it.
MAXIMUM = {
    "sqlite": {
        "report": 20, "read, full view": 10, "read, reporter view": 6, "triage": 27,
        "routing plan": 8, "route": 75, "referral transition": 34, "agency sync page": 8,
        "weighing": 12, "stats/kla": 19,
    },
    "postgresql": {
        "report": 21, "read, full view": 11, "read, reporter view": 7, "triage": 28,
        "routing plan": 9, "route": 76, "referral transition": 34, "agency sync page": 9,
        "weighing": 13, "stats/kla": 20,
    },
}
EARLIER_FEW, EARLIER_MANY = 2, 30
HARNESS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@contextmanager
def counted(connection):
    """The SQL statements run on CONNECTION (the app's, in tests) inside the block."""
    statements = []

    def count(_conn, _cursor, statement, *_args):
        # the savepoints are the tests' (each request in a savepoint of the test's transaction)
        if not statement.startswith(HARNESS):
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", count)


class Operations:
    """Runs each counted operation once on a case of a child with EARLIER reports, and
    records how many statements it took."""

    def __init__(self, client, connection, callers):
        self.client, self.connection, self.callers = client, connection, callers
        self.counts: dict[str, int] = {}

    def call(self, name, method, url, caller, *, expect=200, etag_of=None, **kwargs):
        headers = dict(caller.headers)
        if etag_of is not None:
            headers["If-Match"] = self.client.get(etag_of, headers=caller.headers
                                                  ).headers["ETag"]
        headers.update(kwargs.pop("headers", {}))
        with counted(self.connection) as statements:
            answer = self.client.open(url, method=method, headers=headers, **kwargs)
        assert answer.status_code == expect, (name, answer.json)
        if name is not None:
            self.counts[name] = len(statements)
        return answer.json

    def run(self, earlier: int) -> dict[str, int]:
        worker, rt_head, dinsos, cadre, supervisor = (
            self.callers[role] for role in ("caseworker", "rt_head", "dinsos", "cadre",
                                            "supervisor"))
        nik = f"6471010405{uuid.uuid4().int % 10**6:06d}"
        # a birth date of the run's own: the runs' children are no duplicates of each other
        child = {"name": "Budi Santoso", "sex": "male", "nik": nik,
                 "birth_date": f"2017-{earlier % 12 + 1:02d}-04"}
        for _ in range(earlier):
            self.call(None, "POST", "/api/v1/cases", worker, expect=201,
                      json=child_report(source="hotline", child=child))
        case = self.call("report", "POST", "/api/v1/cases", rt_head, expect=201,
                         json=child_report(child=child),
                         headers={"Idempotency-Key": str(uuid.uuid4())})
        url = f"/api/v1/cases/{case['id']}"
        full = self.call("read, full view", "GET", url, worker)
        assert full["possible_duplicate_count"] == earlier
        self.call("read, reporter view", "GET", url, rt_head)
        self.call("triage", "POST", f"{url}/triage", worker, etag_of=url,
                  json={"risk_level": "high"})
        self.call("routing plan", "GET", f"{url}/routing-plan", worker)
        self.call("route", "POST", f"{url}/route", worker, etag_of=url)
        referral = next(r for r in self.call(None, "GET", "/api/v1/referrals", worker,
                                             query_string={"case_id": case["id"]})
                        if r["agency"] == "DINSOS")
        referral_url = f"/api/v1/referrals/{referral['id']}"
        self.call("referral transition", "POST", f"{referral_url}/transitions", dinsos,
                  etag_of=referral_url, json={"to": "accepted"})
        self.call("agency sync page", "GET", "/api/v1/referrals", dinsos,
                  query_string={"page_size": 20})
        today = calendar.today_in(LAMARU)
        self.call("weighing", "POST", "/api/v1/measurements", cadre, expect=201, json={
            "child": {"name": f"Anak {uuid.uuid4().hex[:6]}", "sex": "female",
                      "birth_date": str(today - timedelta(days=400)), "village_code": LAMARU},
            "measured_on": str(today), "weight_kg": 9.5, "height_cm": 75.0,
            "position": "lying"})
        self.call("stats/kla", "GET", "/api/v1/stats/kla", supervisor,
                  query_string={"area": BALIKPAPAN, "from": str(today - timedelta(days=30)),
                                "to": str(today)})
        return self.counts


@pytest.fixture
def operations(client, connection, make_user):
    callers = {"caseworker": make_user("caseworker", [BALIKPAPAN]),
               "rt_head": make_user("rt_head", [MANGGAR]),
               "dinsos": make_user("agency_officer", agency="DINSOS"),
               "cadre": make_user("posyandu_cadre", [LAMARU]),
               "supervisor": make_user("supervisor", [BALIKPAPAN])}
    return lambda: Operations(client, connection, callers)


def test_each_operation_runs_at_most_its_statements_whatever_the_childs_history(operations,
                                                                                 connection):
    maximum = MAXIMUM[connection.dialect.name]
    few = operations().run(EARLIER_FEW)
    many = operations().run(EARLIER_MANY)
    assert set(few) == set(maximum)
    assert many == few, {name: (few[name], many[name]) for name in few
                         if few[name] != many[name]}
    over = {name: (count, maximum[name]) for name, count in few.items()
            if count > maximum[name]}
    assert not over, (over, "now:", few)


def test_the_callers_token_is_resolved_in_one_statement(client, connection, make_user):
    rt_head = make_user("rt_head", [MANGGAR])
    case = client.post("/api/v1/cases", json=child_report(), headers=rt_head.headers).json
    with counted(connection) as statements:
        answer = client.get(f"/api/v1/cases/{case['id']}", headers=rt_head.headers)
    assert answer.status_code == 200
    about_the_caller = [s for s in statements
                        if "api_tokens" in s or "user_areas" in s or "FROM users" in s]
    assert len(about_the_caller) == 1, about_the_caller
    # only what a Principal is made of: no password hash, no contact details
    assert "password_hash" not in about_the_caller[0] and "email" not in about_the_caller[0]
