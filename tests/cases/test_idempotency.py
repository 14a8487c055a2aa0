"""Idempotency-Key on POST /cases (DESIGN §3)."""

import uuid

import pytest
from sqlalchemy import func, select

from api.cases.models import Case
from api.db import utcnow
from api.idempotency.models import IdempotencyRecord
from tests.conftest import MANGGAR, child_report


@pytest.fixture
def rt_head(make_user):
    return make_user("rt_head", [MANGGAR])


def _count_cases(session) -> int:
    return session.scalar(select(func.count()).select_from(Case))


def test_same_key_twice_creates_one_case_and_replays(client, session, rt_head):
    headers = {**rt_head.headers, "Idempotency-Key": "report-1"}
    first = client.post("/api/v1/cases", json=child_report(), headers=headers)
    second = client.post("/api/v1/cases", json=child_report(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json == first.json
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Location"] == first.headers["Location"]
    assert _count_cases(session) == 1


def test_key_order_of_json_does_not_matter(client, session, rt_head):
    headers = {**rt_head.headers, "Idempotency-Key": "report-2"}
    body = child_report()
    client.post("/api/v1/cases", json=body, headers=headers)
    reordered = dict(reversed(list(body.items())))
    assert client.post("/api/v1/cases", json=reordered, headers=headers).status_code == 201
    assert _count_cases(session) == 1


def test_same_key_with_another_body_is_422(client, session, rt_head):
    headers = {**rt_head.headers, "Idempotency-Key": "report-3"}
    client.post("/api/v1/cases", json=child_report(), headers=headers)
    response = client.post("/api/v1/cases", json=child_report(rt="1"), headers=headers)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json["errors"]
    assert _count_cases(session) == 1


def test_same_key_while_first_in_flight_is_409(client, session, rt_head):
    session.add(IdempotencyRecord(user_id=rt_head.id, key="report-4",
                                  fingerprint=_fingerprint_of(client, child_report()),
                                  claimed_at=utcnow()))
    session.commit()
    response = client.post("/api/v1/cases", json=child_report(),
                           headers={**rt_head.headers, "Idempotency-Key": "report-4"})
    assert response.status_code == 409
    assert _count_cases(session) == 0


def test_keys_are_scoped_per_user(client, session, make_user, rt_head):
    other = make_user("rt_head", [MANGGAR])
    for caller in (rt_head, other):
        response = client.post("/api/v1/cases", json=child_report(),
                               headers={**caller.headers, "Idempotency-Key": "same"})
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response.headers
    assert _count_cases(session) == 2


def test_failed_request_frees_its_key(client, session, rt_head):
    headers = {**rt_head.headers, "Idempotency-Key": "report-5"}
    bad = client.post("/api/v1/cases", json=child_report(village_code="6471019999"),
                      headers=headers)
    assert bad.status_code == 422
    good = client.post("/api/v1/cases", json=child_report(), headers=headers)
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good.headers


def test_overlong_key_is_422(client, rt_head):
    response = client.post("/api/v1/cases", json=child_report(),
                           headers={**rt_head.headers, "Idempotency-Key": "k" * 256})
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json["errors"]


def test_without_key_each_post_is_a_new_case(client, session, rt_head):
    client.post("/api/v1/cases", json=child_report(), headers=rt_head.headers)
    client.post("/api/v1/cases", json=child_report(), headers=rt_head.headers)
    assert _count_cases(session) == 2


def _fingerprint_of(client, body) -> str:
    """The fingerprint the server computes for POST /api/v1/cases with BODY."""
    from api.idempotency.guard import request_fingerprint

    with client.application.test_request_context("/api/v1/cases", method="POST", json=body):
        return request_fingerprint()


def test_abandoned_claim_is_taken_over(client, session, rt_head):
    from datetime import timedelta

    session.add(IdempotencyRecord(user_id=rt_head.id, key=str(uuid.uuid4()),
                                  fingerprint="x", claimed_at=utcnow()))
    record = IdempotencyRecord(user_id=rt_head.id, key="report-6",
                               fingerprint=_fingerprint_of(client, child_report()),
                               claimed_at=utcnow() - timedelta(minutes=5))
    session.add(record)
    session.commit()
    response = client.post("/api/v1/cases", json=child_report(),
                           headers={**rt_head.headers, "Idempotency-Key": "report-6"})
    assert response.status_code == 201
    assert _count_cases(session) == 1


def test_expired_records_are_purged(client, session, rt_head):
    from datetime import timedelta

    old = IdempotencyRecord(user_id=rt_head.id, key="old", fingerprint="x",
                            claimed_at=utcnow() - timedelta(days=3),
                            created_at=utcnow() - timedelta(days=3), response_status=201,
                            response_body="{}")
    session.add(old)
    session.commit()
    client.post("/api/v1/cases", json=child_report(),
                headers={**rt_head.headers, "Idempotency-Key": "new"})
    keys = set(session.scalars(select(IdempotencyRecord.key)))
    assert keys == {"new"}
