"""The counts the staff queue's filters show, taken from the open cases of the caller's areas
in one grouped query: closed history is never counted (it only grows). The queue's order and
paging are list_cases(sort=CaseOrder.QUEUE) and api/paging.py."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case as when
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from api.auth.policy import Grant
from api.cases.models import QUEUE_CLOSED, Case
from api.cases.service import needs_attention_condition, overdue_condition, visible_to


@dataclass
class OpenCounts:
    """Open cases of the caller's areas, counted per value of each queue filter."""

    total: int = 0
    status: dict[str, int] = field(default_factory=dict)
    category: dict[str, int] = field(default_factory=dict)
    risk_level: dict[str, int] = field(default_factory=dict)  # "" = not triaged yet
    overdue: int = 0
    needs_attention: int = 0


def open_counts(*, session: Session, grant: Grant, now: datetime) -> OpenCounts:
    """OpenCounts of the cases GRANT covers, in one query grouped by status, category, risk
    level, overdue and needs attention (at most a few hundred groups)."""
    flags = (
        select(Case.status, Case.category, Case.risk_level,
               when((overdue_condition(now), 1), else_=0).label("overdue"),
               when((needs_attention_condition(now), 1), else_=0).label("attention"))
        # open cases: the stored queue rank's range (an index), never the closed history
        .where(visible_to(grant), Case.queue_rank < QUEUE_CLOSED)
        .subquery()
    )
    if session.get_bind().dialect.name == "postgresql":
        # a plan over thousands of index entries costs more to compile (JIT) than to run
        session.execute(text("SET LOCAL jit = off"))
    rows = session.execute(
        select(flags.c.status, flags.c.category, flags.c.risk_level, flags.c.overdue,
               flags.c.attention, func.count())
        .group_by(flags.c.status, flags.c.category, flags.c.risk_level, flags.c.overdue,
                  flags.c.attention))
    counts = OpenCounts()
    for status, category, risk_level, overdue, attention, number in rows:
        counts.total += number
        for tally, key in ((counts.status, status), (counts.category, category),
                           (counts.risk_level, risk_level)):
            name = str(key.value if hasattr(key, "value") else key or "")
            tally[name] = tally.get(name, 0) + number
        counts.overdue += number if overdue else 0
        counts.needs_attention += number if attention else 0
    return counts

