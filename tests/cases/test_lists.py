"""Lists paged by keyset cursor (DESIGN §3): every row once, in order, however deep, while
new rows arrive; a cursor only works for its owner and its own list; the staff queue."""

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from api.cases.models import QUEUE_CLOSED, Case
from api.db import utcnow
from api.vocabularies.codes import CaseStatus, ClosureReason, RiskLevel
from tests.conftest import BALIKPAPAN, LAMARU, MANGGAR, child_report, stunting_report


def _pages(client, caller, url, *, between=None, **query):
    """Every page of the list at URL, following next_cursor; BETWEEN runs after each page."""
    pages, cursor = [], None
    while True:
        asked = {**query, **({"cursor": cursor} if cursor else {})}
        answer = client.get(url, query_string=asked, headers=caller.headers)
        assert answer.status_code == 200, answer.json
        pages.append(answer.json)
        cursor = json.loads(answer.headers["X-Pagination"])["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "the cursor does not move on"
        if between:
            between()


def _report(client, caller, **overrides):
    answer = client.post("/api/v1/cases", json=child_report(source="hotline", **overrides),
                         headers=caller.headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def _first_cursor(client, caller, url="/api/v1/cases", **query):
    answer = client.get(url, query_string={"page_size": 1, **query}, headers=caller.headers)
    return json.loads(answer.headers["X-Pagination"])["next_cursor"]


@pytest.fixture
def worker(make_user):
    return make_user("caseworker", [BALIKPAPAN])


def test_deep_pages_give_every_row_once_in_order_while_rows_arrive(client, worker):
    reported = [_report(client, worker, child={"name": f"Anak {n}", "sex": "male",
                                               "birth_date": "2017-05-04"})["id"]
                for n in range(7)]
    arrived = []

    def another_report():
        arrived.append(_report(client, worker)["id"])

    pages = _pages(client, worker, "/api/v1/cases", between=another_report, page_size=2)
    seen = [case["id"] for page in pages for case in page]
    # newest first; the rows reported meanwhile are newer than the first page, so they are
    # not in this walk, and nothing is shown twice or skipped
    assert seen == list(reversed(reported))
    assert len(pages) == 4 and [len(page) for page in pages] == [2, 2, 2, 1]
    assert len(arrived) == 3
    again = [case["id"] for page in _pages(client, worker, "/api/v1/cases", page_size=3)
             for case in page]
    assert again == list(reversed(reported + arrived))


def test_pages_by_number_still_work_without_a_count(client, worker):
    for _ in range(3):
        _report(client, worker)
    answer = client.get("/api/v1/cases", query_string={"page": 2, "page_size": 2},
                        headers=worker.headers)
    paging = json.loads(answer.headers["X-Pagination"])
    assert len(answer.json) == 1 and paging["page"] == 2 and paging["previous_page"] == 1
    assert "total" not in paging and paging["next_cursor"] is None
    both = client.get("/api/v1/cases", query_string={
        "page": 2, "cursor": _first_cursor(client, worker)}, headers=worker.headers)
    assert both.status_code == 422 and "page" in both.json["errors"]


def test_a_cursor_of_another_user_is_refused(client, make_user, worker):
    for _ in range(2):
        _report(client, worker)
    colleague = make_user("caseworker", [BALIKPAPAN])
    answer = client.get("/api/v1/cases", query_string={"cursor": _first_cursor(client, worker)},
                        headers=colleague.headers)
    assert answer.status_code == 422
    assert set(answer.json["errors"]) == {"cursor"}


def test_a_cursor_with_other_filters_or_sort_is_refused(client, worker):
    for _ in range(2):
        _report(client, worker)
    cursor = _first_cursor(client, worker, category="violence")
    same = client.get("/api/v1/cases", query_string={"category": "violence", "cursor": cursor},
                      headers=worker.headers)
    assert same.status_code == 200 and len(same.json) == 1
    for other in ({}, {"category": "stunting_risk"}, {"category": "violence", "sort": "queue"},
                  {"category": "violence", "village_code": MANGGAR}):
        answer = client.get("/api/v1/cases", query_string={**other, "cursor": cursor},
                            headers=worker.headers)
        assert answer.status_code == 422, other
        assert set(answer.json["errors"]) == {"cursor"}


def test_a_cursor_of_another_list_is_refused(client, worker):
    case = _report(client, worker)
    _report(client, worker)
    cursor = _first_cursor(client, worker)
    answer = client.get(f"/api/v1/cases/{case['id']}/timeline", query_string={"cursor": cursor},
                        headers=worker.headers)
    assert answer.status_code == 422 and set(answer.json["errors"]) == {"cursor"}


@pytest.mark.parametrize("tamper", [
    lambda cursor: cursor[:-4] + ("AAAA" if not cursor.endswith("AAAA") else "BBBB"),
    lambda cursor: cursor[::-1],
    lambda cursor: "not-a-cursor",
    lambda cursor: "",
])
def test_a_tampered_cursor_is_refused(client, worker, tamper):
    for _ in range(2):
        _report(client, worker)
    answer = client.get("/api/v1/cases",
                        query_string={"cursor": tamper(_first_cursor(client, worker))},
                        headers=worker.headers)
    assert answer.status_code == 422 and set(answer.json["errors"]) == {"cursor"}


def test_with_total_counts_the_whole_list(client, worker):
    for _ in range(3):
        _report(client, worker)
    answer = client.get("/api/v1/cases", query_string={"page_size": 1, "with_total": "true"},
                        headers=worker.headers)
    paging = json.loads(answer.headers["X-Pagination"])
    assert paging["total"] == 3 and paging["page_size"] == 1 and paging["next_cursor"]


def _set(session, case_id, **values):
    # through the ORM, as the services write: the queue's order is kept on every write
    case = session.get(Case, uuid.UUID(case_id))
    for name, value in values.items():
        setattr(case, name, value)
    session.commit()


def test_queue_puts_emergencies_then_the_earliest_deadline_first(client, session, worker):
    now = utcnow()
    calm = _report(client, worker)  # triage due in 24 h
    emergency = _report(client, worker, emergency=True)  # triage due in 1 h
    overdue = _report(client, worker)
    _set(session, overdue["id"], triage_due_at=now - timedelta(hours=2))
    responding = _report(client, worker)
    _set(session, responding["id"], status=CaseStatus.TRIAGED, risk_level=RiskLevel.MEDIUM,
         triaged_at=now, response_due_at=now + timedelta(hours=6))
    in_service = _report(client, worker)  # an agency took it up: no deadline runs
    _set(session, in_service["id"], status=CaseStatus.IN_SERVICE, triaged_at=now,
         response_due_at=None)
    closed = _report(client, worker)
    _set(session, closed["id"], status=CaseStatus.CLOSED,
         closure_reason=ClosureReason.RESOLVED, closed_at=now)
    late_emergency = _report(client, worker, emergency=True)
    _set(session, late_emergency["id"], triage_due_at=now - timedelta(minutes=5))

    pages = _pages(client, worker, "/api/v1/cases", sort="queue", page_size=2)
    queue = [case["id"] for page in pages for case in page]
    assert queue == [late_emergency["id"], emergency["id"], overdue["id"], responding["id"],
                     calm["id"], in_service["id"]]
    assert closed["id"] not in queue
    assert session.scalar(select(Case.queue_rank).where(Case.id == uuid.UUID(closed["id"]))) == \
        QUEUE_CLOSED
    # the default order stays newest first, closed cases included
    newest = client.get("/api/v1/cases", headers=worker.headers).json
    assert [case["id"] for case in newest][:2] == [late_emergency["id"], closed["id"]]


def test_queue_takes_the_filters(client, worker):
    violence = _report(client, worker)
    stunting = client.post("/api/v1/cases",
                           json=stunting_report(village_code=LAMARU, source="hotline"),
                           headers=worker.headers).json
    assert [case["id"] for case in client.get(
        "/api/v1/cases", query_string={"sort": "queue", "category": "stunting_risk"},
        headers=worker.headers).json] == [stunting["id"]]
    assert [case["id"] for case in client.get(
        "/api/v1/cases", query_string={"sort": "queue", "village_code": MANGGAR},
        headers=worker.headers).json] == [violence["id"]]


def test_reporters_have_no_queue(client, make_user):
    reporter = make_user("rt_head", [MANGGAR])
    client.post("/api/v1/cases", json=child_report(), headers=reporter.headers)
    answer = client.get("/api/v1/cases", query_string={"sort": "queue"},
                        headers=reporter.headers)
    assert answer.status_code == 422 and set(answer.json["errors"]) == {"sort"}
    assert len(client.get("/api/v1/cases", query_string={"sort": "newest"},
                          headers=reporter.headers).json) == 1


def test_timeline_and_audit_events_page_by_cursor(client, make_user, worker):
    case = _report(client, worker)
    url = f"/api/v1/cases/{case['id']}"
    for note in ("first", "second", "third"):
        etag = client.get(url, headers=worker.headers).headers["ETag"]
        assert client.patch(url, json={"address": f"Jl. {note}"},
                            headers={**worker.headers, "If-Match": etag}).status_code == 200
    steps = [step for page in _pages(client, worker, f"{url}/timeline", page_size=1)
             for step in page]
    assert len(steps) == 4 and [step["kind"] for step in steps][0] == "reported"
    assert [step["id"] for step in steps] == sorted(step["id"] for step in steps)
    supervisor = make_user("supervisor", [BALIKPAPAN])
    events = [event for page in _pages(client, supervisor, "/api/v1/audit-events",
                                       page_size=2, actor_id=str(worker.id))
              for event in page]
    ids = [event["id"] for event in events]
    assert len(ids) == len(set(ids)) >= 8 and ids == sorted(ids, reverse=True)
