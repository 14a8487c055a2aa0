"""Referral statuses and who moves them (DESIGN §5).

pending → accepted | declined (reason); accepted → in_progress → completed (outcome);
accepted → completed also; cancelled (reason) by the case side while the referral is open.
"""

import enum

from api.errors import Conflict, InvalidInput
from api.vocabularies.codes import ReferralStatus as S


class Side(enum.Enum):
    AGENCY = "agency"  # the agency the referral is addressed to
    CASE = "case"  # the caseworkers of the case's area


LEGAL: dict[S, dict[S, Side]] = {
    S.PENDING: {S.ACCEPTED: Side.AGENCY, S.DECLINED: Side.AGENCY, S.CANCELLED: Side.CASE},
    S.ACCEPTED: {S.IN_PROGRESS: Side.AGENCY, S.COMPLETED: Side.AGENCY, S.CANCELLED: Side.CASE},
    S.IN_PROGRESS: {S.COMPLETED: Side.AGENCY, S.CANCELLED: Side.CASE},
}
NEEDS_REASON = (S.DECLINED, S.CANCELLED)
NEEDS_OUTCOME = (S.COMPLETED,)


def check_move(current: S, target: S, side: Side, *, reason: str | None,
               outcome: str | None) -> None:
    """Refuse an illegal move (409), a move by the wrong side (409), a missing reason (422)."""
    allowed = LEGAL.get(current, {})
    if target not in allowed:
        raise Conflict(f"A {current.value} referral cannot move to {target.value}.")
    if allowed[target] is not side:
        doer = "the agency" if allowed[target] is Side.AGENCY else "the caseworkers of the case"
        raise Conflict(f"Only {doer} may move a referral to {target.value}.")
    if target in NEEDS_REASON and not (reason and reason.strip()):
        raise InvalidInput({"reason": [f"Say why the referral is {target.value}."]})
    if target in NEEDS_OUTCOME and not (outcome and outcome.strip()):
        raise InvalidInput({"outcome": ["Describe the outcome of the service."]})
