"""Requests nobody can be named for (401) are counted per source and hour: anyone can send
them, and they must not grow the permanent log without bound."""

from sqlalchemy import func, select

from api.audit.models import AnonymousRefusalCount, AuditEvent


def test_a_thousand_anonymous_refusals_add_no_audit_event_and_one_count_per_source(
        client, session):
    events_before = session.scalar(select(func.count()).select_from(AuditEvent))
    for number in range(1000):
        headers = {"Authorization": "Bearer lnd_guessed"} if number % 2 else {}
        assert client.get("/api/v1/cases", headers=headers).status_code == 401
    for _ in range(3):
        assert client.get("/api/v1/cases", environ_base={"REMOTE_ADDR": "10.1.2.3"}
                          ).status_code == 401
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events_before
    counts = {row.source: row.refusals for row in session.scalars(
        select(AnonymousRefusalCount))}
    assert counts == {"127.0.0.1": 1000, "10.1.2.3": 3}


def test_a_known_caller_refused_is_still_an_audit_event(client, session, make_user):
    agency = make_user("agency_system", agency="DINSOS")
    assert client.get("/api/v1/cases", headers=agency.headers).status_code == 403
    assert session.scalar(select(func.count()).select_from(AnonymousRefusalCount)) == 0
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.actor_id == agency.id))
    assert (event.action, event.outcome) == ("auth.denied", "403")
