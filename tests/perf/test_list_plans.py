"""Every list, with each of its filters, is answered from indexes on PostgreSQL: every
statement a list request runs is EXPLAINed with sequential scans and sorts priced out of
reach (`SET LOCAL enable_seqscan = off`, `enable_sort = off`), and no plan may still read a
big table from end to end (Seq Scan) or sort it for a list's keyset order (issue 13).

PostgreSQL only: these are PostgreSQL's plans (SQLite has no such planner settings); the
tests exist only when the suite runs against PostgreSQL, as the audit trigger tests do.
"""

import json
import os
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests.conftest import BALIKPAPAN, MANGGAR, child_report

POSTGRESQL = bool(os.environ.get("LINDUNG_TEST_DATABASE_URL"))
# the tables that grow with the city's work
BIG_TABLES = {"cases", "referrals", "children", "audit_events", "case_events",
              "audit_event_subjects", "measurements"}


@contextmanager
def captured(connection):
    """The (statement, parameters) of every SELECT run on CONNECTION inside the block."""
    statements = []

    def capture(_conn, _cursor, statement, parameters, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", capture)


def _nodes(plan):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def plan_problems(connection, statement, parameters) -> list[str]:
    """What reads a big table whole in STATEMENT's plan, or sorts one for a LIMITed list."""
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    connection.exec_driver_sql("SET LOCAL enable_sort = off")
    try:
        (plan,), = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}",
                                              parameters).all()
    finally:
        connection.exec_driver_sql("RESET enable_seqscan")
        connection.exec_driver_sql("RESET enable_sort")
    plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    problems = [f"Seq Scan on {node['Relation Name']}" for node in _nodes(plan)
                if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in BIG_TABLES]
    if " LIMIT " in statement.upper():
        # a list's page is read in its order from an index: an Incremental Sort, which only
        # orders the rows sharing the index's leading key (the same created_at), may stay
        problems += [f"Sort by {node.get('Sort Key')}" for node in _nodes(plan)
                     if node["Node Type"] == "Sort"]
    return problems


def assert_indexed(client, connection, caller, url, **query) -> list[str]:
    """Request the list at URL and check the plan of every SELECT it ran; the plans' text."""
    with captured(connection) as statements:
        answer = client.get(url, query_string=query, headers=caller.headers)
    assert answer.status_code == 200, answer.json
    assert any(" LIMIT " in statement.upper() for statement, _ in statements)
    texts = []
    for statement, parameters in statements:
        problems = plan_problems(connection, statement, parameters)
        assert problems == [], (url, query, problems, statement)
        texts.append(statement)
    return texts


def _etag(client, caller, url):
    return client.get(url, headers=caller.headers).headers["ETag"]


CASE_FILTERS = [
    {}, {"sort": "queue"}, {"status": "reported"}, {"category": "violence"},
    {"risk_level": "high"}, {"assigned_to": "worker"}, {"village_code": "647101"},
    {"village_code": MANGGAR},
    {"reported_from": "2026-01-01"}, {"reported_to": "2026-12-31"},
    {"reported_from": "2026-01-01", "reported_to": "2026-12-31"},
    {"overdue": "true"}, {"overdue": "false"}, {"needs_attention": "true"},
    {"needs_attention": "false"}, {"q": "Santoso"}, {"q": "KS-6471-2026-000001"},
    {"sort": "queue", "overdue": "true"}, {"sort": "queue", "category": "stunting_risk"},
]

if POSTGRESQL:

    @pytest.fixture
    def world(client, make_user):
        """A routed case and a few more in Balikpapan, and the people who list them."""
        worker = make_user("caseworker", [BALIKPAPAN])
        reporter = make_user("rt_head", [MANGGAR])
        for _ in range(3):
            client.post("/api/v1/cases", json=child_report(), headers=reporter.headers)
        case = client.post("/api/v1/cases", json=child_report(source="hotline"),
                           headers=worker.headers).json
        url = f"/api/v1/cases/{case['id']}"
        for action, body in (("triage", {"risk_level": "high", "assigned_to": str(worker.id)}),
                             ("route", None)):
            answer = client.post(f"{url}/{action}", json=body, headers={
                **worker.headers, "If-Match": _etag(client, worker, url)})
            assert answer.status_code == 200, answer.json
        return {"worker": worker, "reporter": reporter, "case": case,
                "supervisor": make_user("supervisor", [BALIKPAPAN]),
                "admin": make_user("admin"),
                "agency": make_user("agency_officer", agency="DINSOS")}

    @pytest.mark.parametrize("query", CASE_FILTERS, ids=lambda query: "&".join(
        f"{name}={value}" for name, value in query.items()) or "none")
    def test_case_list_filters_are_indexed(client, connection, world, query):
        query = {name: str(world["worker"].id) if value == "worker" else value
                 for name, value in query.items()}
        assert_indexed(client, connection, world["worker"], "/api/v1/cases", **query)

    def test_case_list_of_a_reporter_and_of_an_assignee_is_indexed(client, connection, world):
        assert_indexed(client, connection, world["reporter"], "/api/v1/cases")
        assert_indexed(client, connection, world["reporter"], "/api/v1/cases",
                       status="reported", category="violence")
        assert_indexed(client, connection, world["supervisor"], "/api/v1/cases",
                       assigned_to=str(world["worker"].id))

    def test_name_search_reads_the_trigram_index(client, connection, world):
        with captured(connection) as statements:
            client.get("/api/v1/cases", query_string={"q": "Santoso"},
                       headers=world["worker"].headers)
        (statement, parameters), = [(s, p) for s, p in statements if "name_key LIKE" in s]
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = str(connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all())
        connection.exec_driver_sql("RESET enable_seqscan")
        assert "ix_children_name_key_trgm" in plan

    @pytest.mark.parametrize("caller, query", [
        ("agency", {}), ("agency", {"status": "pending"}), ("agency", {"overdue": "true"}),
        ("agency", {"updated_after": "2026-01-01T00:00:00Z"}), ("worker", {}),
        ("worker", {"agency": "DINSOS"}), ("worker", {"status": "pending"}),
        ("worker", {"case_id": "case"}),
    ])
    def test_referral_list_filters_are_indexed(client, connection, world, caller, query):
        query = {name: world["case"]["id"] if value == "case" else value
                 for name, value in query.items()}
        assert_indexed(client, connection, world[caller], "/api/v1/referrals", **query)

    @pytest.mark.parametrize("caller, query", [
        ("supervisor", {}), ("admin", {}), ("admin", {"actor_id": "worker"}),
        ("admin", {"subject_id": "case"}), ("admin", {"action": "case.read"}),
        ("admin", {"from": "2026-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}),
        ("supervisor", {"action": "case.create"}),
    ])
    def test_audit_event_filters_are_indexed(client, connection, world, caller, query):
        named = {"worker": str(world["worker"].id), "case": world["case"]["id"]}
        query = {name: named.get(value, value) for name, value in query.items()}
        assert_indexed(client, connection, world[caller], "/api/v1/audit-events", **query)

    def test_timeline_access_log_and_measurements_are_indexed(client, connection, world):
        case = world["case"]
        assert_indexed(client, connection, world["worker"],
                       f"/api/v1/cases/{case['id']}/timeline")
        assert_indexed(client, connection, world["supervisor"],
                       f"/api/v1/children/{case['child']['id']}/access-log")
        assert_indexed(client, connection, world["worker"],
                       f"/api/v1/children/{case['child']['id']}/measurements")
