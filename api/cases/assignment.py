"""Who may be assigned a case: active caseworkers and supervisors whose areas cover its
kelurahan (the rule cases/service.py checks when a triage names an assignee)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.models import User, UserArea
from api.auth.policy import CASE_STAFF
from api.regions.codes import LEVEL_BY_LENGTH


def assignable_staff(*, session: Session, village_code: str) -> list[User]:
    """The staff who may take a case of VILLAGE_CODE, by username."""
    # an area covers the kelurahan when it is the kelurahan or one of the regions above it
    covering = [village_code[:length] for length in sorted(LEVEL_BY_LENGTH)]
    return list(session.scalars(
        select(User).where(User.active, User.role.in_(CASE_STAFF),
                           User.id.in_(select(UserArea.user_id)
                                       .where(UserArea.region_code.in_(covering))))
        .order_by(User.username)))
