"""Staff hear of emergencies, missed deadlines and declined referrals (DESIGN §8)."""

import json
import uuid
from datetime import timedelta
from email import message_from_bytes
from email import policy as mail_policy

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from api.db import utcnow
from api.outbox.models import Alert, Delivery
from api.outbox.service import new_webhook_secret
from tests.conftest import BALIKPAPAN_TIMUR, MANGGAR, MANTUIL, child_report
from tests.outbox.conftest import act, drain, report_and_route
from tests.outbox.receivers import SmtpServer

CHILD_SECRETS = ("Budi", "Santoso", "Mulawarman", "Bruises", "2017-05-04")


def _read(mail) -> str:
    """The subject and body of a received e-mail, decoded."""
    message = message_from_bytes(mail.content, policy=mail_policy.default)
    return f"{message['Subject']}\n{message.get_content()}"


def _contact(client, admin, user, **contact):
    response = client.patch(f"/api/v1/users/{user.id}", json=contact, headers=admin.headers)
    assert response.status_code == 200, response.json
    return response.json


def _emergency(client, reporter):
    response = client.post("/api/v1/cases", json=child_report(source="hotline", emergency=True),
                           headers=reporter.headers)
    assert response.status_code == 201, response.json
    return response.json


def test_emergency_report_reaches_caseworker_by_mail_and_gateway_in_indonesian(
        client, admin, caseworker, make_user, receiver, make_worker, tmp_path):
    elsewhere = make_user("caseworker", [MANTUIL])
    _contact(client, admin, caseworker, email="ani@dp3akb.example.go.id", phone="+6281234567890")
    _contact(client, admin, elsewhere, email="budi@dp3akb.example.go.id")
    gateway_secret = new_webhook_secret()
    with SmtpServer(tmp_path) as smtp:
        case = _emergency(client, caseworker)
        drain(make_worker(smtp_url=smtp.url, smtp_ca_file=str(smtp.ca_file),
                          alert_webhook_url=receiver.url, alert_webhook_secret=gateway_secret))
        [mail] = smtp.messages
    assert mail.rcpt_tos == ["ani@dp3akb.example.go.id"]  # not the caseworker of Mantuil
    assert smtp.logins == [b"lindung"]
    text = _read(mail)
    assert case["reference"] in text
    assert "Laporan darurat" in text and "Batas waktu" in text and "WITA" in text
    assert f"https://lindung.example.go.id/app/kasus/{case['id']}" in text
    for secret in CHILD_SECRETS:
        assert secret not in text
    [signal] = receiver.delivered()
    alert = Webhook(gateway_secret).verify(signal.body, signal.headers)
    assert alert["type"] == "alert.case.urgent"
    assert alert["data"]["to"] == "+6281234567890"
    assert alert["data"]["reference"] == case["reference"]
    for secret in CHILD_SECRETS:
        assert secret not in signal.body.decode()


def test_alert_speaks_english_to_who_asked_for_it(client, admin, caseworker, make_worker,
                                                  tmp_path):
    _contact(client, admin, caseworker, email="ani@dp3akb.example.go.id", language="en")
    with SmtpServer(tmp_path) as smtp:
        case = _emergency(client, caseworker)
        drain(make_worker(smtp_url=smtp.url, smtp_ca_file=str(smtp.ca_file)))
        [mail] = smtp.messages
    text = _read(mail)
    assert "Emergency or high-risk report" in text and case["reference"] in text
    listed = client.get("/api/v1/me/alerts", headers=caseworker.headers).json
    assert [a["reference"] for a in listed] == [case["reference"]]
    assert listed[0]["text"].startswith("Emergency")


def test_one_alert_per_event_and_person(client, session, caseworker, make_worker):
    case = _emergency(client, caseworker)
    url = f"/api/v1/cases/{case['id']}"
    # triaged high afterwards: the same urgency, not a second alert
    assert act(client, caseworker, f"{url}/triage", {"risk_level": "high", "emergency": True},
               url).status_code == 200
    assert session.scalar(select(func.count()).select_from(Alert).where(
        Alert.user_id == caseworker.id)) == 1


def test_my_alerts_are_mine_only(client, caseworker, make_user):
    other = make_user("caseworker", [BALIKPAPAN_TIMUR])
    analyst = make_user("analyst")
    _emergency(client, caseworker)
    assert len(client.get("/api/v1/me/alerts", headers=other.headers).json) == 1
    assert client.get("/api/v1/me/alerts", headers=analyst.headers).json == []
    assert client.get("/api/v1/me/alerts").status_code == 401


def test_triage_overdue_alerts_caseworkers_and_supervisors_once(client, session, caseworker,
                                                                make_user, make_worker):
    supervisor = make_user("supervisor", [BALIKPAPAN_TIMUR])
    reporter = make_user("rt_head", [MANGGAR])
    case = client.post("/api/v1/cases", json=child_report(), headers=reporter.headers).json
    worker = make_worker()
    worker.scan(now=utcnow() + timedelta(hours=1))
    assert session.scalar(select(func.count()).select_from(Alert)) == 0  # not due yet
    later = utcnow() + timedelta(hours=25)
    worker.scan(now=later)
    worker.scan(now=later + timedelta(minutes=1))  # scans repeat; alerts do not
    alerted = session.scalars(select(Alert).where(Alert.case_id == uuid.UUID(case["id"]))).all()
    assert sorted(a.user_id for a in alerted) == sorted([caseworker.id, supervisor.id])
    assert {a.kind for a in alerted} == {"case.triage_overdue"}


def test_declined_referral_alerts_the_assigned_caseworker_then_the_supervisors(
        client, session, caseworker, dinsos, make_user, make_worker):
    supervisor = make_user("supervisor", [BALIKPAPAN_TIMUR])
    case = report_and_route(client, caseworker)
    referral = client.get("/api/v1/referrals", query_string={"case_id": case["id"]},
                          headers=dinsos.headers).json[0]
    url = f"/api/v1/referrals/{referral['id']}"
    assert act(client, dinsos, f"{url}/transitions",
               {"to": "declined", "reason": "Outside our programme."}, url).status_code == 200
    declined = session.scalars(select(Alert).where(Alert.kind == "referral.declined")).all()
    assert [a.user_id for a in declined] == [caseworker.id]  # the triaging caseworker
    worker = make_worker()
    worker.scan(now=utcnow() + timedelta(minutes=30))
    assert session.scalar(select(func.count()).select_from(Alert).where(
        Alert.kind == "referral.escalated")) == 0
    worker.scan(now=utcnow() + timedelta(hours=2))  # past the high-risk response SLA
    escalated = session.scalars(select(Alert).where(Alert.kind == "referral.escalated")).all()
    assert [a.user_id for a in escalated] == [supervisor.id]


def test_referral_not_accepted_in_time_alerts_then_escalates(client, session, caseworker,
                                                            make_user, make_worker):
    supervisor = make_user("supervisor", [BALIKPAPAN_TIMUR])
    case = report_and_route(client, caseworker)
    due = max(r["due_at"] for r in client.get(
        "/api/v1/referrals", query_string={"case_id": case["id"]},
        headers=caseworker.headers).json)
    worker = make_worker()
    from datetime import datetime
    due_at = datetime.fromisoformat(due.replace("Z", "+00:00"))
    worker.scan(now=due_at + timedelta(minutes=1))
    overdue = session.scalars(select(Alert).where(Alert.kind == "referral.overdue")).all()
    assert overdue and {a.user_id for a in overdue} == {caseworker.id}
    worker.scan(now=due_at + timedelta(hours=2))
    escalated = session.scalars(select(Alert).where(Alert.kind == "referral.escalated")).all()
    assert escalated and {a.user_id for a in escalated} == {supervisor.id}


def test_contact_is_encrypted_at_rest_and_shown_to_admin_and_owner(client, session, admin,
                                                                   caseworker, connection):
    shown = _contact(client, admin, caseworker, email="ani@dp3akb.example.go.id",
                     phone="+6281234567890", language="en")
    assert (shown["email"], shown["phone"], shown["language"]) == (
        "ani@dp3akb.example.go.id", "+6281234567890", "en")
    from sqlalchemy import text
    stored = connection.execute(text("SELECT email, phone FROM users WHERE username = :u"),
                                {"u": caseworker.username}).one()
    assert "ani@" not in stored.email and "628" not in stored.phone
    me = client.get("/api/v1/me", headers=caseworker.headers).json
    assert (me["email"], me["language"]) == ("ani@dp3akb.example.go.id", "en")


@pytest.mark.parametrize("contact", [{"email": "not-an-address"}, {"phone": "0812"},
                                     {"language": "fr"}, {"nickname": "ani"}])
def test_bad_contact_is_refused_and_nothing_stored(client, admin, caseworker, contact):
    response = client.patch(f"/api/v1/users/{caseworker.id}", json=contact,
                            headers=admin.headers)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert client.get("/api/v1/me", headers=caseworker.headers).json["email"] is None


def test_only_admins_change_contacts(client, caseworker, make_user):
    supervisor = make_user("supervisor", [BALIKPAPAN_TIMUR])
    url = f"/api/v1/users/{caseworker.id}"
    assert client.patch(url, json={"language": "en"}).status_code == 401
    assert client.patch(url, json={"language": "en"},
                        headers=supervisor.headers).status_code == 403
    assert client.patch(url, json={"language": "en"},
                        headers=caseworker.headers).status_code == 403


def test_alert_deliveries_carry_no_contact_in_the_outbox(client, session, admin, caseworker):
    _contact(client, admin, caseworker, email="ani@dp3akb.example.go.id", phone="+6281234567890")
    _emergency(client, caseworker)
    deliveries = session.scalars(select(Delivery)).all()
    assert {d.channel.value for d in deliveries} == {"email", "gateway"}
    assert "ani@" not in json.dumps([d.event.payload for d in deliveries])
