"""The outbox in the /metrics scrape (api/observability/metrics.py): how much waits to be
delivered, how long the oldest has waited, and which agency endpoints fail.

Read from the database at scrape time, so every worker's and server's share is counted once.
Labels are channels and agency codes only (bounded; never an id).
"""

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from api.agencies.models import Agency
from api.db import database, utcnow
from api.observability.metrics import register_collector
from api.outbox.models import Delivery, DeliveryStatus


class OutboxCollector:
    """Yields lindung_outbox_backlog, lindung_outbox_oldest_pending_age_seconds (per
    channel), lindung_outbox_failed_deliveries and lindung_outbox_endpoint_failing (per
    agency)."""

    def collect(self):
        backlog = GaugeMetricFamily("lindung_outbox_backlog",
                                    "Deliveries waiting to be delivered, by channel.",
                                    labels=["channel"])
        oldest = GaugeMetricFamily("lindung_outbox_oldest_pending_age_seconds",
                                   "Age of the oldest waiting delivery, by channel, in seconds.",
                                   labels=["channel"])
        failed = GaugeMetricFamily("lindung_outbox_failed_deliveries",
                                   "Webhook deliveries given up after the retry window, by "
                                   "agency endpoint.", labels=["agency"])
        failing = GaugeMetricFamily("lindung_outbox_endpoint_failing",
                                    "1 while an agency's endpoint is marked failing.",
                                    labels=["agency"])
        now = utcnow()
        with database().session(writes=False) as session:
            for channel, count, first in session.execute(
                    select(Delivery.channel, func.count(), func.min(Delivery.created_at))
                    .where(Delivery.status == DeliveryStatus.PENDING)
                    .group_by(Delivery.channel)):
                backlog.add_metric([channel.value], count)
                oldest.add_metric([channel.value], max(0.0, (now - first).total_seconds()))
            for agency, count in session.execute(
                    select(Delivery.agency_code, func.count())
                    .where(Delivery.status == DeliveryStatus.FAILED,
                           Delivery.agency_code.is_not(None))
                    .group_by(Delivery.agency_code)):
                failed.add_metric([agency], count)
            for agency, since in session.execute(
                    select(Agency.code, Agency.webhook_failing_since)
                    .where(Agency.webhook_url.is_not(None))):
                failing.add_metric([agency], 0 if since is None else 1)
            session.rollback()
        yield from (backlog, oldest, failed, failing)


register_collector(OutboxCollector())
