"""Writing the outbox: every event is stored in the transaction of the change it tells of
(a rolled-back change leaves none), with one delivery per recipient channel.

Nothing here sends anything: `lindung worker` (outbox/worker.py) delivers what was
committed. Rows are only inserted here, after the referral feed (lock order: db.py).
"""

import base64
import secrets
import uuid
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from api.agencies.models import Agency
from api.auth.models import User
from api.db import utcnow
from api.errors import Conflict, NotFound
from api.outbox.models import Alert, Channel, Delivery, DeliveryStatus, OutboxEvent

# Standard Webhooks secrets: whsec_ + base64 of 24-64 random bytes (DESIGN §7)
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_webhook_secret() -> str:
    """A fresh signing secret in Standard Webhooks form."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def webhook_secret_problem(secret: str) -> str | None:
    """Why SECRET is not a usable Standard Webhooks secret, or None."""
    if not secret.startswith(SECRET_PREFIX):
        return "Must start with whsec_."
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except ValueError:
        return "After whsec_ must come standard base64."
    if not 24 <= len(key) <= 64:
        return "Must hold 24 to 64 random bytes."
    return None


def _message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def record_event(*, session: Session, kind: str, data: dict, referral_id=None, case_id=None,
                 agency: Agency | None = None, ordering_key: str | None = None,
                 now: datetime | None = None) -> OutboxEvent:
    """Store an event of KIND with the thin DATA (ids and codes only; JSON-ready), and a
    webhook delivery to AGENCY when it has an endpoint (agencies without one poll).

    The payload is the Standard Webhooks shape {"type", "timestamp", "data"}. ORDERING_KEY
    (default: the agency and the referral) names the deliveries that go out one at a time.
    """
    now = now or utcnow()
    event = OutboxEvent(id=uuid.uuid4(), kind=kind, referral_id=referral_id, case_id=case_id,
                        created_at=now,
                        payload={"type": kind, "timestamp": _iso(now), "data": data})
    session.add(event)
    if agency is not None and agency.webhook_url:
        key = ordering_key or f"{agency.code}:referral:{referral_id or event.id}"
        session.add(Delivery(message_id=_message_id(), event=event, channel=Channel.WEBHOOK,
                             agency_code=agency.code, ordering_key=key,
                             next_attempt_at=now, created_at=now,
                             retry_from=now))
    session.flush()
    return event


def referral_data(referral) -> dict:
    """The thin payload of a referral event: ids and codes, never case content."""
    return {"referral_id": str(referral.id), "case_id": str(referral.case_id),
            "case_reference": referral.case.reference, "agency": referral.agency_code,
            "service": str(referral.service), "status": referral.status.value}


def record_referral_event(*, session: Session, kind: str, referral, now=None) -> OutboxEvent:
    """referral.created, referral.updated or case.updated, for the referral's agency."""
    agency = session.get(Agency, referral.agency_code)
    return record_event(session=session, kind=kind, data=referral_data(referral),
                        referral_id=referral.id, case_id=referral.case_id, agency=agency,
                        now=now)


def raise_alert(*, session: Session, kind: str, subject_id: uuid.UUID, users: list[User],
                case=None, deadline: datetime | None = None, facts: dict | None = None,
                now: datetime | None = None) -> list[Alert]:
    """Alert each of USERS of KIND about SUBJECT_ID, once: a person already alerted of this
    kind and subject is skipped (the unique key (kind, subject, user), so two workers
    scanning at once, or a retried request, never alert twice). Each new alert is an event
    with a delivery per channel the person has (e-mail, phone via the gateway)."""
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    created = []
    for user in {user.id: user for user in users}.values():
        alert_id = session.execute(
            insert(Alert.__table__).values(
                id=uuid.uuid4(), kind=kind, subject_id=subject_id, user_id=user.id,
                case_id=case.id if case is not None else None,
                reference=case.reference if case is not None else None,
                deadline=deadline, created_at=now,
                # the kelurahan's zone tells the deadline in local time (messages.py)
                facts={**(facts or {}),
                       **({"village_code": case.village_code} if case is not None else {})})
            .on_conflict_do_nothing(index_elements=["kind", "subject_id", "user_id"])
            .returning(Alert.__table__.c.id)).scalar_one_or_none()
        if alert_id is None:
            continue
        alert = session.get(Alert, alert_id)
        event = OutboxEvent(id=uuid.uuid4(), kind=f"alert.{kind}", created_at=now,
                            case_id=alert.case_id,
                            payload={"type": f"alert.{kind}", "timestamp": _iso(now),
                                     "data": {"alert_id": str(alert.id)}})
        session.add(event)
        for channel, contact in ((Channel.EMAIL, user.email), (Channel.GATEWAY, user.phone)):
            if contact:
                session.add(Delivery(message_id=_message_id(), event=event, channel=channel,
                                     alert_id=alert.id, next_attempt_at=now, created_at=now,
                                     retry_from=now,
                                     ordering_key=f"alert:{alert.id}:{channel.value}"))
        created.append(alert)
    session.flush()
    return created


def list_alerts(*, user_id) -> Select:
    """The alerts of one person, newest first."""
    return (select(Alert).where(Alert.user_id == user_id)
            .order_by(Alert.created_at.desc(), Alert.id.desc()))


# ---------- an agency's deliveries ----------

def list_deliveries(*, agency_code: str) -> Select:
    """The webhook deliveries to one agency, newest first."""
    return (select(Delivery).where(Delivery.agency_code == agency_code)
            .options(selectinload(Delivery.attempts)).order_by(Delivery.id.desc()))


def get_delivery(*, session: Session, agency_code: str, delivery_id: int) -> Delivery:
    """One delivery to AGENCY_CODE; NotFound for any other."""
    delivery = session.scalar(select(Delivery).where(
        Delivery.id == delivery_id, Delivery.agency_code == agency_code))
    if delivery is None:
        raise NotFound("No such delivery.")
    return delivery


def retry_delivery(*, session: Session, delivery: Delivery, now: datetime) -> Delivery:
    """Send a delivery that failed, or is waiting for its next try, at once (same
    webhook-id); Conflict for one delivered already."""
    if delivery.status is DeliveryStatus.DELIVERED:
        raise Conflict("This delivery was delivered already.")
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now
    delivery.claimed_until = None
    delivery.claimed_by = None
    delivery.retry_from = now  # a new retry window: the worker gives up a day after this
    session.flush()
    return delivery


def send_test_event(*, session: Session, agency: Agency, now: datetime) -> Delivery:
    """A `webhook.test` event to the agency's endpoint; Conflict when it has none."""
    if not agency.webhook_url:
        raise Conflict("This agency has no webhook endpoint: set webhook_url first.")
    event = record_event(session=session, kind="webhook.test", data={"agency": agency.code},
                         agency=agency, ordering_key=f"{agency.code}:test:{uuid.uuid4()}",
                         now=now)
    return session.scalar(select(Delivery).where(Delivery.event_id == event.id))


def _iso(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
