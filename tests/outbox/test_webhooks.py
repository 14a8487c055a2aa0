"""Agencies learn of their referrals through signed webhooks from the outbox (DESIGN §7)."""

import json
import time
import uuid
from collections import defaultdict

from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from api.outbox.models import Delivery, DeliveryStatus, OutboxEvent
from api.referrals import service as referral_service
from tests.conftest import child_report
from tests.outbox.conftest import act, drain, report_and_route, set_webhook
from tests.outbox.receivers import Receiver


def _events(receipts):
    return [json.loads(r.body) for r in receipts]


def test_routed_case_reaches_the_agency_as_signed_events(client, session, admin, caseworker,
                                                         dinsos, receiver, make_worker):
    secret = set_webhook(client, admin, "DINSOS", receiver.url)["webhook_secret"]
    case = report_and_route(client, caseworker)
    drain(make_worker())

    [created] = receiver.delivered()
    payload = Webhook(secret).verify(created.body, created.headers)
    assert payload["type"] == "referral.created"
    assert payload["data"]["agency"] == "DINSOS"
    assert payload["data"]["case_reference"] == case["reference"]
    assert created.headers["webhook-id"].startswith("msg_")
    # thin: ids and codes only, the agency fetches the referral with its own token
    assert set(payload["data"]) == {"referral_id", "case_id", "case_reference", "agency",
                                    "service", "status"}
    assert "Budi" not in created.body.decode() and "Mulawarman" not in created.body.decode()

    referral_url = f"/api/v1/referrals/{payload['data']['referral_id']}"
    assert act(client, dinsos, f"{referral_url}/transitions", {"to": "accepted"},
               referral_url).status_code == 200
    drain(make_worker())
    accepted = Webhook(secret).verify(receiver.delivered()[1].body,
                                      receiver.delivered()[1].headers)
    assert (accepted["type"], accepted["data"]["status"]) == ("referral.updated", "accepted")


def test_a_wrong_secret_does_not_verify(client, admin, caseworker, receiver, make_worker):
    set_webhook(client, admin, "DINSOS", receiver.url)
    report_and_route(client, caseworker)
    drain(make_worker())
    [created] = receiver.delivered()
    other = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
    try:
        Webhook(other).verify(created.body, created.headers)
    except Exception as error:  # noqa: BLE001 - the library's verification error
        assert "signature" in str(error).lower()
    else:
        raise AssertionError("a foreign secret verified the event")


def test_case_change_an_agency_sees_is_an_event_for_it(client, admin, caseworker, receiver,
                                                       make_worker):
    set_webhook(client, admin, "DINSOS", receiver.url)
    case = report_and_route(client, caseworker)
    url = f"/api/v1/cases/{case['id']}"
    response = client.patch(url, json={"address": "Jl. Baru No. 1"},
                            headers={**caseworker.headers,
                                     "If-Match": client.get(url, headers=caseworker.headers)
                                     .headers["ETag"]})
    assert response.status_code == 200
    drain(make_worker())
    types = [event["type"] for event in _events(receiver.delivered())]
    assert types == ["referral.created", "case.updated"]
    assert "Jl. Baru" not in receiver.delivered()[1].body.decode()


def test_agency_without_endpoint_gets_no_delivery_but_the_event_is_written(
        client, session, caseworker):
    case = report_and_route(client, caseworker)
    events = session.scalars(select(OutboxEvent.kind).where(
        OutboxEvent.case_id == uuid.UUID(case["id"]))).all()
    assert events.count("referral.created") >= 4
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_rolled_back_change_leaves_no_event(client, session, app, admin, caseworker, receiver):
    set_webhook(client, admin, "DINSOS", receiver.url)
    case = client.post("/api/v1/cases",
                       json=child_report(source="hotline"), headers=caseworker.headers).json
    url = f"/api/v1/cases/{case['id']}"
    assert act(client, caseworker, f"{url}/triage", {"risk_level": "high"}, url).status_code \
        == 200
    before = session.scalar(select(func.count()).select_from(OutboxEvent))
    # a stale If-Match: the route is refused, nothing is written
    response = client.post(f"{url}/route", headers={**caseworker.headers,
                                                    "If-Match": '"stale"'})
    assert response.status_code == 412
    assert session.scalar(select(func.count()).select_from(OutboxEvent)) == before
    # and a change rolled back after its events were written takes them along
    from api.auth.policy import Operation, Principal, decide
    from api.cases.models import Case
    from api.db import utcnow
    from api.vocabularies.codes import Role

    principal = Principal(user_id=caseworker.id, username=caseworker.username,
                          role=Role.CASEWORKER, area_codes=("647101",), agency_code=None,
                          token_id=None)
    savepoint = session.begin_nested()
    referral_service.route_case(session=session, grant=decide(principal, Operation.CASE_ROUTE),
                                case=session.get(Case, uuid.UUID(case["id"])), now=utcnow())
    assert session.scalar(select(func.count()).select_from(OutboxEvent)) > before
    savepoint.rollback()
    assert session.scalar(select(func.count()).select_from(OutboxEvent)) == before


def test_receiver_down_then_failing_then_up_gets_every_event_once_in_order(
        client, session, admin, caseworker, dinsos, make_worker):
    receiver = Receiver()  # not listening yet: connection refused
    secret = set_webhook(client, admin, "DINSOS", receiver.url)["webhook_secret"]
    cases = [report_and_route(client, caseworker) for _ in range(2)]
    for case in cases:  # each referral: created, accepted, in progress
        referral = client.get("/api/v1/referrals", query_string={"case_id": case["id"]},
                              headers=dinsos.headers).json[0]
        url = f"/api/v1/referrals/{referral['id']}"
        for step in ({"to": "accepted"}, {"to": "in_progress"}):
            assert act(client, dinsos, f"{url}/transitions", step, url).status_code == 200
    worker = make_worker()
    for _ in range(3):
        assert worker.run_once() >= 1
        time.sleep(0.1)
    attempts = session.scalars(select(Delivery)).all()
    assert all(d.status is DeliveryStatus.PENDING and d.attempt_count >= 1 for d in attempts
               if d.attempt_count)
    refused = {d.last_error for d in attempts if d.attempt_count}
    assert refused == {"ConnectionError"}

    def answer(count):
        if count < 2:
            return 500, {}
        if count == 2:
            return 429, {"Retry-After": "1"}
        return 200, {}

    receiver.answer = answer
    receiver.start()
    try:
        drain(worker, rounds=2000, until=lambda: len(receiver.delivered()) == 6)
    finally:
        receiver.stop()

    delivered = receiver.delivered()
    ids = [r.headers["webhook-id"] for r in delivered]
    assert len(ids) == len(set(ids)) == 6  # each once
    by_referral = defaultdict(list)
    for receipt in delivered:
        event = Webhook(secret).verify(receipt.body, receipt.headers)
        by_referral[event["data"]["referral_id"]].append(event["data"]["status"])
    assert list(by_referral.values()) == [["pending", "accepted", "in_progress"]] * 2
    # the 429's Retry-After was honoured: its delivery came back no sooner than a second
    throttled = receiver.receipts[2]
    again = next(r for r in receiver.receipts[3:]
                 if r.headers["webhook-id"] == throttled.headers["webhook-id"])
    assert again.at - throttled.at >= 0.95
    # every attempt recorded: status, error, duration
    listed = client.get("/api/v1/agencies/DINSOS/deliveries", headers=admin.headers).json
    tries = [a for d in listed for a in d["attempts"]]
    assert {a["status_code"] for a in tries} >= {None, 500, 429, 200}
    assert all(a["duration_ms"] >= 0 for a in tries)
    assert all(d["status"] == "delivered" for d in listed)


def test_exhausted_delivery_fails_the_endpoint_and_alerts_the_admins(
        client, session, admin, caseworker, make_worker):
    from datetime import timedelta

    from api.agencies.models import Agency
    from api.auth.models import User
    from api.outbox.models import Alert

    session.get(User, admin.id).email = "admin@kota.example.go.id"
    session.commit()
    set_webhook(client, admin, "DINSOS", "http://127.0.0.1:9/nothing-listens")
    report_and_route(client, caseworker)
    make_worker(retry_window=timedelta(0)).run_once()
    delivery = session.scalars(select(Delivery).where(Delivery.agency_code == "DINSOS")).one()
    session.refresh(delivery)
    assert delivery.status is DeliveryStatus.FAILED
    agency = session.get(Agency, "DINSOS")
    session.refresh(agency)
    assert agency.webhook_failing_since is not None
    [alert] = session.scalars(select(Alert).where(Alert.user_id == admin.id)).all()
    assert alert.kind == "endpoint.failing" and alert.facts["agency"] == "DINSOS"
    # the admin retries it by hand: pending again, same webhook-id
    response = client.post(f"/api/v1/agencies/DINSOS/deliveries/{delivery.id}/retry",
                           headers=admin.headers)
    assert response.status_code == 200
    assert response.json["status"] == "pending"
    assert response.json["webhook_id"] == delivery.message_id
