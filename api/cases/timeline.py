"""Writing and reading a case's timeline."""

import uuid
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.auth.policy import Principal
from api.cases.models import Case, CaseEvent
from api.vocabularies.codes import CaseStatus


def record(*, session: Session, case: Case, kind: str, actor: Principal | None, at: datetime,
           from_status: CaseStatus | None = None, to_status: CaseStatus | None = None,
           referral_id: uuid.UUID | None = None, note: str | None = None,
           details: dict | None = None) -> CaseEvent:
    """Append one step to CASE's timeline."""
    event = CaseEvent(
        case_id=case.id, at=at, kind=kind, note=note, referral_id=referral_id,
        details=details or {},
        actor_id=actor.user_id if actor else None, actor_role=actor.role if actor else None,
        from_status=from_status, to_status=to_status,
    )
    session.add(event)
    return event


def timeline_of(case: Case) -> Select:
    """CASE's steps, oldest first."""
    return select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
