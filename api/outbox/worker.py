"""`lindung worker`: deliver what the outbox holds, and alert missed deadlines.

Any number of workers may run on any hosts against one PostgreSQL database. A worker claims
a batch of due deliveries (SELECT … FOR UPDATE SKIP LOCKED, so two workers never claim the
same row) by writing a lease (`claimed_until`) and committing; it then delivers them one by
one outside any transaction, and records each attempt. A worker killed mid-batch holds
nothing: its leases expire and another worker claims the rest. On SQLite one worker runs
(the database has one writer).

Order: only the oldest pending delivery of each ordering key (one referral at one agency)
can be claimed, so a referral's events reach the agency in the order they were written.
Delivery is at least once: a receiver dedupes by `webhook-id`, which never changes.
"""

import json
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import exists, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from api.agencies.models import Agency
from api.auth.models import User
from api.cases.sla import Deadlines
from api.db import Database, utcnow
from api.outbox import alerts, messages, senders
from api.outbox.models import Alert, Channel, Delivery, DeliveryAttempt, DeliveryStatus
from api.outbox.settings import OutboxSettings

log = logging.getLogger(__name__)
# how often a worker folds the KLA roll-ups' delta rows (seconds): reads sum about one row per
# kelurahan-day and -month between folds, plus the deltas written since
FOLD_INTERVAL = 60


def backoff(settings: OutboxSettings, attempt: int, retry_after: timedelta | None
            ) -> timedelta:
    """The wait before try ATTEMPT + 1: base × 2^(attempt-1) up to the cap, with "equal
    jitter" (half fixed, half random) so that retries of one outage spread out; never less
    than the receiver's Retry-After."""
    ceiling = min(settings.backoff_cap,
                  settings.backoff_base * (2 ** min(attempt - 1, 30)))
    wait = ceiling / 2 + ceiling / 2 * random.random()
    return max(wait, retry_after) if retry_after is not None else wait


@dataclass
class Job:
    """A claimed delivery made ready to send: what `send()` does, and what recording its
    outcome needs."""

    delivery_id: int
    attempt_count: int
    retry_from: datetime
    agency_code: str | None
    agency_failing: bool = False
    send: Callable[[], senders.Outcome] = field(
        default=lambda: senders.Outcome(False, error="Not prepared."))

    def sending(self, send: Callable[[], senders.Outcome]) -> "Job":
        """This job, sent by SEND."""
        self.send = send
        return self

    def failing(self, error: str) -> "Job":
        """This job, failing with ERROR without being sent (nowhere to send it)."""
        self.send = partial(senders.Outcome, False, error=error)
        return self


class Worker:
    """One worker process's deliverer; thread-safe (each call opens its own sessions)."""

    def __init__(self, database: Database, settings: OutboxSettings, deadlines: Deadlines,
                 name: str | None = None):
        self.database = database
        self.settings = settings
        self.deadlines = deadlines
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"

    # ---------- claiming ----------

    def claim(self, *, now: datetime | None = None, limit: int | None = None,
              thread: str = "") -> list[int]:
        """Lease up to LIMIT due deliveries, each the oldest pending of its key; their ids in
        claim order."""
        now = now or utcnow()
        earlier = aliased(Delivery)
        not_head = exists().where(earlier.ordering_key == Delivery.ordering_key,
                                  earlier.id < Delivery.id,
                                  earlier.status == DeliveryStatus.PENDING)
        query = (select(Delivery.id).where(
            Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now,
            or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now), ~not_head)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit or self.settings.batch_size))
        with self.database.session() as session:
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(of=Delivery, skip_locked=True)
            ids = list(session.scalars(query))
            if ids:
                session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(
                    claimed_until=now + self.settings.lease,
                    claimed_by=f"{self.name}{thread}"))
            session.commit()
        return ids

    def release(self, ids: list[int], *, thread: str = "") -> None:
        """Give back this thread's claims not yet worked on (a graceful stop)."""
        if not ids:
            return
        with self.database.session() as session:
            session.execute(update(Delivery).where(
                Delivery.id.in_(ids), Delivery.status == DeliveryStatus.PENDING,
                Delivery.claimed_by == f"{self.name}{thread}")
                .values(claimed_until=None, claimed_by=None))
            session.commit()

    # ---------- delivering ----------

    def prepare(self, ids: list[int]) -> list[Job]:
        """The claimed deliveries IDS, ready to send, in claim order (one read)."""
        with self.database.session(writes=False) as session:
            deliveries = {d.id: d for d in session.scalars(
                select(Delivery).where(Delivery.id.in_(ids)))}
            agencies = {a.code: a for a in session.scalars(select(Agency).where(
                Agency.code.in_({d.agency_code for d in deliveries.values()
                                 if d.agency_code})))}
            jobs = [self._job(session, deliveries[i], agencies) for i in ids if i in deliveries]
            session.rollback()  # hold no snapshot while the receivers answer
        return jobs

    def deliver(self, job: Job, *, renew: list[int] = (), thread: str = "") -> set[int]:
        """Try one prepared delivery and record the attempt; renew the lease of RENEW (the
        rest of the batch) in the same transaction. The ids of RENEW still claimed by this
        thread: one whose lease ran out may be another worker's now, and is left to it."""
        outcome = job.send()
        return self._record(job, outcome, renew=renew, owner=f"{self.name}{thread}")

    def _job(self, session: Session, delivery: Delivery, agencies: dict) -> Job:
        job = Job(delivery_id=delivery.id, attempt_count=delivery.attempt_count,
                  retry_from=delivery.retry_from, agency_code=delivery.agency_code)
        if delivery.channel is Channel.WEBHOOK:
            agency = agencies[delivery.agency_code]
            job.agency_failing = agency.webhook_failing_since is not None
            if not agency.webhook_url or not agency.webhook_secret:
                return job.failing("The agency has no webhook endpoint.")
            return job.sending(partial(
                senders.post_signed, url=agency.webhook_url, secret=agency.webhook_secret,
                message_id=delivery.message_id, body=json.dumps(delivery.event.payload),
                timeout=self.settings.timeout))
        alert = session.get(Alert, delivery.alert_id)
        user = session.get(User, alert.user_id)
        message = messages.render(alert, language=user.language,
                                  public_url=self.settings.public_url)
        if delivery.channel is Channel.EMAIL:
            if not self.settings.smtp_url or not user.email:
                return job.failing("No SMTP server or no e-mail address.")
            return job.sending(partial(
                senders.send_mail, smtp_url=self.settings.smtp_url,
                sender=self.settings.mail_from, to=user.email, subject=message.subject,
                text=message.text, message_id=delivery.message_id,
                timeout=self.settings.timeout, ca_file=self.settings.smtp_ca_file))
        if not (self.settings.alert_webhook_url and self.settings.alert_webhook_secret
                and user.phone):
            return job.failing("No alert gateway or no phone number.")
        body = gateway_payload(delivery, alert, user, message)
        return job.sending(partial(
            senders.post_signed, url=self.settings.alert_webhook_url,
            secret=self.settings.alert_webhook_secret, message_id=delivery.message_id,
            body=json.dumps(body), timeout=self.settings.timeout))

    def _record(self, job: Job, outcome: senders.Outcome, *, renew, owner: str) -> set[int]:
        """Write the attempt and its consequence in one short transaction. A delivery that
        is no longer pending (another worker delivered it after this one's lease ran out)
        keeps its state; the attempt is recorded all the same."""
        now = utcnow()
        pending = (Delivery.id == job.delivery_id) & (Delivery.status == DeliveryStatus.PENDING)
        released = {"claimed_until": None, "claimed_by": None,
                    "attempt_count": Delivery.attempt_count + 1}
        with self.database.session() as session:
            session.execute(insert(DeliveryAttempt).values(
                delivery_id=job.delivery_id, at=now, status_code=outcome.status_code,
                error=outcome.error, duration_ms=outcome.duration_ms))
            if outcome.delivered:
                session.execute(update(Delivery).where(pending).values(
                    status=DeliveryStatus.DELIVERED, delivered_at=now, last_error=None,
                    **released))
                if job.agency_failing:
                    session.execute(update(Agency).where(Agency.code == job.agency_code)
                                    .values(webhook_failing_since=None))
            else:
                wait = backoff(self.settings, job.attempt_count + 1, outcome.retry_after)
                if now + wait - job.retry_from <= self.settings.retry_window:
                    session.execute(update(Delivery).where(pending).values(
                        next_attempt_at=now + wait, last_error=outcome.error, **released))
                else:
                    given_up = session.execute(update(Delivery).where(pending).values(
                        status=DeliveryStatus.FAILED, last_error=outcome.error, **released))
                    if given_up.rowcount and job.agency_code:
                        self._endpoint_failed(session, job.agency_code, now)
            kept = set()
            if renew:
                kept = set(session.scalars(update(Delivery).where(
                    Delivery.id.in_(renew), Delivery.claimed_by == owner,
                    Delivery.status == DeliveryStatus.PENDING)
                    .values(claimed_until=now + self.settings.lease).returning(Delivery.id)))
            session.commit()
        return kept

    @staticmethod
    def _endpoint_failed(session: Session, agency_code: str, now: datetime) -> None:
        """Mark the agency's endpoint failing and alert the admins, once per failing spell."""
        marked = session.execute(update(Agency).where(
            Agency.code == agency_code, Agency.webhook_failing_since.is_(None))
            .values(webhook_failing_since=now))
        if marked.rowcount:
            alerts.endpoint_failing(session=session, agency_code=agency_code, since=now,
                                    now=now)

    # ---------- the loops ----------

    def run_once(self, *, stop: threading.Event | None = None, thread: str = "") -> int:
        """Claim one batch and deliver it; the number of deliveries tried. On STOP, the
        claims not yet worked on are given back."""
        ids = self.claim(thread=thread)
        if not ids:
            return 0
        jobs = self.prepare(ids)
        owned = {job.delivery_id for job in jobs}
        for index, job in enumerate(jobs):
            rest = [j.delivery_id for j in jobs[index + 1:]]
            if stop is not None and stop.is_set():
                self.release([job.delivery_id, *rest], thread=thread)
                return index
            if job.delivery_id not in owned:
                continue  # its lease ran out while earlier ones were sent
            try:
                owned = self.deliver(job, renew=rest, thread=thread)
            except Exception:  # one bad row must not stop the worker; its lease expires
                log.exception("delivery %s could not be tried", job.delivery_id)
        return len(jobs)

    def drain(self) -> int:
        """Deliver until nothing is due (`lindung worker --once`); the number tried."""
        total = 0
        while tried := self.run_once():
            total += tried
        return total

    def scan(self, now: datetime | None = None) -> None:
        """Alert the deadlines missed since the last scan (alerts.scan)."""
        with self.database.session() as session:
            alerts.scan(session=session, deadlines=self.deadlines, now=now or utcnow())
            session.commit()

    def fold(self) -> dict | None:
        """Fold the KLA roll-ups' delta rows (stats/rollups.fold), unless another worker is
        folding now: then None, and nothing is done."""
        from api.stats import rollups

        with self.database.session() as session:
            folded = rollups.fold(connection=session.connection(), wait=False)
            session.commit()
        return folded

    def run(self, stop: threading.Event, *, concurrency: int = 1) -> None:
        """Deliver with CONCURRENCY threads, scan for missed deadlines and fold the KLA
        roll-ups (at most once per FOLD_INTERVAL) until STOP; each thread finishes the
        delivery in hand and gives back the rest of its batch."""
        threads = [threading.Thread(target=self._loop, args=(stop, f"#{n}"), daemon=True,
                                    name=f"deliverer-{n}") for n in range(concurrency)]
        for thread in threads:
            thread.start()
        folded_at = None
        while not stop.is_set():
            try:
                self.scan()
            except Exception:
                log.exception("the alert scan failed; trying again later")
            if folded_at is None or time.monotonic() - folded_at >= FOLD_INTERVAL:
                folded_at = time.monotonic()
                try:
                    self.fold()
                except Exception:
                    log.exception("folding the KLA roll-ups failed; trying again later")
            stop.wait(min(self.settings.scan_interval.total_seconds(), FOLD_INTERVAL))
        for thread in threads:
            thread.join()

    def _loop(self, stop: threading.Event, thread: str) -> None:
        while not stop.is_set():
            try:
                tried = self.run_once(stop=stop, thread=thread)
            except Exception:
                log.exception("claiming deliveries failed; trying again later")
                tried = 0
            if not tried:
                stop.wait(self.settings.poll_interval.total_seconds())


def gateway_payload(delivery: Delivery, alert: Alert, user: User,
                    message: messages.AlertMessage) -> dict:
    """What the city's WhatsApp/SMS gateway receives: whom to tell (the phone number),
    what to say (in the person's language), and the alert's ids."""
    return {"type": f"alert.{alert.kind}", "timestamp": delivery.event.payload["timestamp"],
            "data": {"alert_id": str(alert.id), "kind": alert.kind, "to": user.phone,
                     "language": user.language, "reference": alert.reference,
                     "deadline": alert.deadline.isoformat() if alert.deadline else None,
                     "text": message.text, "link": message.link}}
