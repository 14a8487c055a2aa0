"""The referral change feed agencies sync from (GET /referrals?cursor=…).

Every change an agency can see — of the referral itself, or of what the agency view shows of
the case behind it: the case's fields, its child, its household, the child's latest
measurement — gives the referral the next position in the feed, so a syncing agency sees it
once, in order.

The case side is noted at every flush, whichever service or endpoint made the change
(`note_agency_view_changes`), and settled once at the end of the transaction (`settle`):
the referrals are locked, then their positions taken, in the lock order of db.py.
"""

from flask import g
from sqlalchemy import event, inspect, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api import crypto
from api.cases.models import Case
from api.cases.schemas import HouseholdViewSchema
from api.children.models import Child, Household, Measurement
from api.db import undone, utcnow
from api.errors import InvalidInput
from api.outbox import service as outbox
from api.referrals.models import Referral, ReferralFeedCounter
from api.referrals.schemas import AgencyCaseViewSchema, AgencyChildViewSchema
from api.vocabularies.codes import CaseStatus, Category

# what the agency view (DESIGN §4) shows, read off its schemas: a change elsewhere (the
# narrative, the case's status) leaves the agency's copy, and its ETag, as they were
CASE_FIELDS = set(AgencyCaseViewSchema().fields) - {"child", "latest_measurement"}
CHILD_FIELDS = set(AgencyChildViewSchema().fields) - {"age_months"}  # derived from birth_date
HOUSEHOLD_FIELDS = set(HouseholdViewSchema().fields) - {"id"}
PENDING = "lindung.feed.pending"


def cursor_at(position: int, principal) -> str:
    """The opaque sync cursor of PRINCIPAL after POSITION: sealed (api/crypto.py), so the
    feed's global position — how much happened at other agencies — is never shown, and bound
    to the caller, so nobody else can use it."""
    return crypto.sealed(f"{principal.user_id}:{position}")


def position_after(cursor: str | None, principal) -> int:
    """The feed position a cursor of PRINCIPAL stands at (0 without one); InvalidInput for a
    cursor that is not the caller's own."""
    if cursor is None:
        return 0
    owner, _, position = (crypto.opened(cursor) or "").partition(":")
    if owner != str(principal.user_id) or not position.isdigit():
        raise InvalidInput({"cursor": ["Not a cursor of yours: pass back the next_cursor "
                                       "of your previous page, or none to start."]})
    return int(position)


def next_positions(session: Session, count: int) -> range:
    """COUNT new positions in the feed, in order.

    One atomic upsert of the counter row: its row lock is held until the transaction ends,
    so feed writers take turns (lock order: db.py).
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert
    table = ReferralFeedCounter.__table__
    last = session.execute(
        insert(table).values(id=1, last_position=count)
        .on_conflict_do_update(index_elements=[table.c.id],
                               set_={"last_position": table.c.last_position + count})
        .returning(table.c.last_position)).scalar_one()
    return range(last - count + 1, last + 1)


def next_position(session: Session) -> int:
    """The next position in the feed."""
    return next_positions(session, 1)[0]


@event.listens_for(Session, "before_flush")
def note_agency_view_changes(session: Session, _context, _instances) -> None:
    """Note what this flush changes of agency views (no query: the flush may be an
    autoflush in the middle of a service)."""
    pending = session.info.setdefault(PENDING, {
        "cases": set(), "children": set(), "measured": set(), "households": set()})
    for thing in session.dirty:
        if isinstance(thing, Case) and _changed(thing, CASE_FIELDS):
            pending["cases"].add(thing.id)
        elif isinstance(thing, Child) and _changed(thing, CHILD_FIELDS):
            pending["children"].add(thing.id)
        elif isinstance(thing, Household) and _changed(thing, HOUSEHOLD_FIELDS):
            pending["households"].add(thing.id)
    for thing in session.new:
        if isinstance(thing, Measurement):
            pending["measured"].add(thing.child_id)


def settle(session: Session) -> None:
    """Move every referral whose agency view this transaction changed to the end of the
    feed: lock the referrals, then take their positions (lock order: db.py)."""
    session.flush()
    pending = session.info.pop(PENDING, None)
    if not pending or not any(pending.values()):
        return
    shown = or_(
        Case.id.in_(pending["cases"]), Case.child_id.in_(pending["children"]),
        Case.household_id.in_(pending["households"]),
        # the agency view shows a measurement for stunting-risk cases only
        Case.child_id.in_(pending["measured"]) & (Case.category == Category.STUNTING_RISK)
        & (Case.status != CaseStatus.CLOSED))
    referrals = session.scalars(
        select(Referral).join(Case, Referral.case_id == Case.id).where(shown)
        .order_by(Referral.id).with_for_update(of=Referral, key_share=True)
        .execution_options(populate_existing=True)).all()
    if referrals:
        now = utcnow()
        for referral, position in zip(referrals, next_positions(session, len(referrals)),
                                      strict=True):
            referral.sync_seq = position
            referral.updated_at = now
        # the agencies holding an open referral are told too, after the feed (lock order)
        for referral in referrals:
            if referral.is_open:
                outbox.record_referral_event(session=session, kind="case.updated",
                                             referral=referral, now=now)
        session.flush()
        session.info.pop(PENDING, None)  # the positions themselves change no agency view


@event.listens_for(Session, "before_commit")
def _settle_before_commit(session: Session) -> None:
    # requests settle before their audit event is chained (init_app); this covers the rest
    # (the command line, scripts)
    settle(session)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(PENDING, None)


def _changed(thing, names) -> bool:
    attributes = inspect(thing).attrs
    return any(attributes[name].history.has_changes() for name in names)


def init_app(app) -> None:
    """Settle the feed of each acknowledged request before its audit event is chained: the
    feed's counter is taken before the audit chain's lock (lock order: db.py)."""

    @app.after_request
    def settle_feed(response):
        session = g.get("db_session")
        if session is None or response.status_code >= 400:
            return response
        try:
            settle(session)
        except DBAPIError as error:
            return undone(session, error)
        return response
