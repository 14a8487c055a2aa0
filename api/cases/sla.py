"""Service-level deadlines (DESIGN §5): triage after a report, response after triage."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from api.vocabularies.codes import RiskLevel


@dataclass(frozen=True)
class Deadlines:
    """Configurable SLAs; the defaults are the city's (DESIGN §5)."""

    triage_emergency: timedelta = timedelta(hours=1)
    triage_default: timedelta = timedelta(hours=24)
    response_by_risk: dict = field(default_factory=lambda: {
        RiskLevel.HIGH: timedelta(hours=1),
        RiskLevel.MEDIUM: timedelta(hours=6),
        RiskLevel.LOW: timedelta(hours=24),
    })

    def triage_due_at(self, reported_at: datetime, emergency: bool) -> datetime:
        return reported_at + (self.triage_emergency if emergency else self.triage_default)

    def response_due_at(self, triaged_at: datetime, risk: RiskLevel, emergency: bool) -> datetime:
        # an emergency is answered at the fastest pace whatever the risk level says
        delay = self.response_by_risk[RiskLevel.HIGH if emergency else risk]
        return triaged_at + delay

    @classmethod
    def from_config(cls, config) -> "Deadlines":
        return cls(
            triage_emergency=config["TRIAGE_DUE_EMERGENCY"],
            triage_default=config["TRIAGE_DUE_DEFAULT"],
            response_by_risk={RiskLevel.HIGH: config["RESPONSE_DUE_HIGH"],
                              RiskLevel.MEDIUM: config["RESPONSE_DUE_MEDIUM"],
                              RiskLevel.LOW: config["RESPONSE_DUE_LOW"]},
        )
