"""Routing rules → a routing plan: which agencies' services a case needs, and why.

Rules are data (DESIGN §5). A rule's `when` holds conditions that must all hold:
`category`, `violence_types_any`, `risk_levels`, `child_age_years` {min, max},
`economic_stressors_any`, `has_economic_stressor`, `welfare_decile_max`, and `any_of` — a
list of condition sets of which at least one must hold.
"""

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from api.regions import calendar

DEFAULT_RULES = Path(__file__).parent / "data" / "default_routing_rules.json"


@dataclass(frozen=True)
class CaseFacts:
    """What routing looks at, taken from a case."""

    category: str
    violence_types: frozenset[str]
    risk_level: str | None
    child_age_years: int
    economic_stressors: frozenset[str]
    welfare_decile: int | None

    @classmethod
    def of(cls, case, today: date) -> "CaseFacts":
        """The facts of CASE on TODAY, the case's region's calendar day."""
        household = case.household
        return cls(
            category=case.category.value,
            violence_types=frozenset(case.violence_types),
            risk_level=case.risk_level.value if case.risk_level else None,
            child_age_years=calendar.age_years(case.child.birth_date, today),
            economic_stressors=frozenset(household.economic_stressors if household else ()),
            welfare_decile=household.welfare_decile if household else None,
        )


@dataclass(frozen=True)
class ProposedReferral:
    rule_id: str
    rule_description: str
    agency: str
    service: str
    due_in_hours: int


def holds(when: dict, facts: CaseFacts) -> bool:
    """True when every condition of WHEN holds for FACTS."""
    checks = {
        "category": lambda v: facts.category == v,
        "violence_types_any": lambda v: bool(facts.violence_types & set(v)),
        "risk_levels": lambda v: facts.risk_level in v,
        "child_age_years": lambda v: v.get("min", 0) <= facts.child_age_years <= v.get("max", 17),
        "economic_stressors_any": lambda v: bool(facts.economic_stressors & set(v)),
        "has_economic_stressor": lambda v: bool(facts.economic_stressors) == v,
        "welfare_decile_max": lambda v: facts.welfare_decile is not None
        and facts.welfare_decile <= v,
        "any_of": lambda v: any(holds(alternative, facts) for alternative in v),
    }
    return all(checks[name](value) for name, value in when.items())


def routing_plan(rules, facts: CaseFacts) -> list[ProposedReferral]:
    """The referrals RULES propose for FACTS, in rule order, one per agency and service
    (the first rule that proposes a service is the one that explains it)."""
    plan: dict[tuple[str, str], ProposedReferral] = {}
    for rule in rules:
        key = (rule.agency_code, str(rule.service))
        if key not in plan and holds(rule.when, facts):
            plan[key] = ProposedReferral(rule.id, rule.description, *key, rule.due_in_hours)
    return list(plan.values())


def default_rules() -> list[dict]:
    return json.loads(DEFAULT_RULES.read_text())
