"""The referral change feed agencies sync from (GET /referrals?cursor=…).

Every change an agency should see — of the referral itself, or of the case behind it —
gives the referral the next position in the feed, so a syncing agency sees it once, in order.
"""

from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from api.referrals.models import Referral

# any constant works: it names the lock that orders the referral change feed
SYNC_FEED_LOCK = 0x4C4E4452  # "LNDR"


def next_position(session: Session) -> int:
    """The next position in the feed.

    Positions must become visible in the order they are given, or a syncing agency would
    skip a change committed late under a lower number; so writers of the feed take turns
    (PostgreSQL: a transaction-scoped advisory lock; SQLite: its single writer lock).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SYNC_FEED_LOCK})
    session.flush()
    return (session.scalar(select(func.max(Referral.sync_seq))) or 0) + 1


def case_changed(*, session: Session, case, now: datetime) -> None:
    """The case behind these referrals changed: the agencies holding them must hear of it."""
    for referral in case.referrals:
        referral.sync_seq = next_position(session)
        referral.updated_at = now
