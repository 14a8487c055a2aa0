"""Case statuses and the legal moves between them (DESIGN §5).

reported → triaged → referred → in_service → monitoring → closed. Triage, routing and the
referrals' own progress move a case forward; a caseworker may close an open case at any
stage (with a closure reason) and move it between in_service and monitoring; only a
supervisor reopens a closed case: to triaged, to be routed again, or to reported when it was
never triaged.
"""

import enum

from api.errors import Conflict
from api.vocabularies.codes import CaseStatus, ReferralStatus

OPEN = tuple(status for status in CaseStatus if status is not CaseStatus.CLOSED)
ROUTABLE = (CaseStatus.TRIAGED, CaseStatus.REFERRED, CaseStatus.IN_SERVICE, CaseStatus.MONITORING)


class Move(enum.Enum):
    CLOSE = "close"
    REOPEN = "reopen"
    TO_MONITORING = "to_monitoring"
    BACK_TO_SERVICE = "back_to_service"


# (from, to) → the move a caseworker asks for with POST /cases/{id}/transitions
MANUAL_MOVES: dict[tuple[CaseStatus, CaseStatus], Move] = {
    **{(status, CaseStatus.CLOSED): Move.CLOSE for status in OPEN},
    (CaseStatus.CLOSED, CaseStatus.TRIAGED): Move.REOPEN,
    (CaseStatus.CLOSED, CaseStatus.REPORTED): Move.REOPEN,
    (CaseStatus.IN_SERVICE, CaseStatus.MONITORING): Move.TO_MONITORING,
    (CaseStatus.MONITORING, CaseStatus.IN_SERVICE): Move.BACK_TO_SERVICE,
}

_HINTS = {
    CaseStatus.TRIAGED: "Use POST /cases/{id}/triage to triage a reported case.",
    CaseStatus.REFERRED: "Use POST /cases/{id}/route or /referrals to refer a case.",
    CaseStatus.IN_SERVICE: "A case is in service once an agency accepts a referral.",
}


def manual_move(current: CaseStatus, target: CaseStatus) -> Move:
    """The move from CURRENT to TARGET, or Conflict (409) when it is not a legal one."""
    move = MANUAL_MOVES.get((current, target))
    if move is None:
        hint = _HINTS.get(target, "")
        raise Conflict(f"A {current.value} case cannot move to {target.value}. {hint}".strip())
    return move


def after_triage(current: CaseStatus) -> CaseStatus:
    """Triage (or re-triage) keeps an open case where it is, except that a report is triaged."""
    if current is CaseStatus.CLOSED:
        raise Conflict("A closed case cannot be triaged; a supervisor may reopen it.")
    return CaseStatus.TRIAGED if current is CaseStatus.REPORTED else current


def after_referral_created(current: CaseStatus) -> CaseStatus:
    """A new referral: a triaged (or monitored) case is referred again."""
    if current not in ROUTABLE:
        reason = ("Triage the case before referring it." if current is CaseStatus.REPORTED
                  else "A closed case cannot be referred; a supervisor may reopen it.")
        raise Conflict(reason)
    if current in (CaseStatus.TRIAGED, CaseStatus.MONITORING):
        return CaseStatus.REFERRED
    return current


def following_referrals(current: CaseStatus, statuses: list[ReferralStatus]) -> CaseStatus:
    """Where the case stands given its referrals: first acceptance → in service; every
    referral that went ahead completed → monitoring."""
    if current not in (CaseStatus.REFERRED, CaseStatus.IN_SERVICE):
        return current
    went_ahead = [s for s in statuses
                  if s not in (ReferralStatus.DECLINED, ReferralStatus.CANCELLED)]
    if went_ahead and all(s is ReferralStatus.COMPLETED for s in went_ahead):
        return CaseStatus.MONITORING
    if any(s in (ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS, ReferralStatus.COMPLETED)
           for s in went_ahead):
        return CaseStatus.IN_SERVICE
    return current
