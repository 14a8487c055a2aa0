"""The referral change feed agencies sync from (GET /referrals?cursor=…).

Every change an agency can see — of the referral itself, or of what the agency view shows of
the case behind it: the case's fields, its child, its household, the child's latest
measurement — gives the referral the next position in the feed, so a syncing agency sees it
once, in order. The case side is watched at every flush (`follow_agency_view`), whichever
service or endpoint made the change.
"""

from sqlalchemy import event, inspect, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.cases.models import Case
from api.cases.schemas import HouseholdViewSchema
from api.children.models import Child, Household, Measurement
from api.db import utcnow
from api.referrals.models import Referral, ReferralFeedCounter
from api.referrals.schemas import AgencyCaseViewSchema, AgencyChildViewSchema
from api.vocabularies.codes import Category

# what the agency view (DESIGN §4) shows, read off its schemas: a change elsewhere (the
# narrative, the case's status) leaves the agency's copy, and its ETag, as they were
CASE_FIELDS = set(AgencyCaseViewSchema().fields) - {"child", "latest_measurement"}
CHILD_FIELDS = set(AgencyChildViewSchema().fields) - {"age_months"}  # derived from birth_date
HOUSEHOLD_FIELDS = set(HouseholdViewSchema().fields) - {"id"}


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
def follow_agency_view(session: Session, _context, _instances) -> None:
    """Move every referral whose agency view this flush changes to the end of the feed."""
    cases, children, measured, households = set(), set(), set(), set()
    for thing in session.dirty:
        if isinstance(thing, Case) and _changed(thing, CASE_FIELDS):
            cases.add(thing.id)
        elif isinstance(thing, Child) and _changed(thing, CHILD_FIELDS):
            children.add(thing.id)
        elif isinstance(thing, Household) and _changed(thing, HOUSEHOLD_FIELDS):
            households.add(thing.id)
    for thing in session.new:
        if isinstance(thing, Measurement):
            measured.add(thing.child_id)
    if not (cases or children or measured or households):
        return
    shown = or_(Referral.case_id.in_(cases), Case.child_id.in_(children),
                Case.household_id.in_(households),
                # the agency view shows a measurement for stunting-risk cases only
                Case.child_id.in_(measured) & (Case.category == Category.STUNTING_RISK))
    with session.no_autoflush:
        # the referral rows are locked before the feed's counter (lock order: db.py)
        referrals = session.scalars(
            select(Referral).join(Case, Referral.case_id == Case.id).where(shown)
            .order_by(Referral.id).with_for_update(of=Referral, key_share=True)).all()
        moving = [r for r in referrals if not _changed(r, {"sync_seq"})]
        if moving:
            now = utcnow()
            for referral, position in zip(moving, next_positions(session, len(moving)),
                                          strict=True):
                referral.sync_seq = position
                referral.updated_at = now


def _changed(thing, names) -> bool:
    attributes = inspect(thing).attrs
    return any(attributes[name].history.has_changes() for name in names)
