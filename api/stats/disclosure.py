"""Statistical disclosure control for the analyst's view of the KLA statistics.

A count of one or two cases in a small place can single a child out (UU PDP 27/2022; UU SPPA
art. 19). For analysts every count of 1-2 is withheld (primary suppression); where the cells
of one sum (a column of kelurahan rows or of months, the statuses of an agency's referrals)
would then have a single withheld cell, the next smallest count is withheld too, so the total
minus the visible cells does not give it back (secondary suppression); shares over fewer than
three, shares of a withheld count, and medians over fewer than three cases are withheld; and
a kelurahan row that hides its violence count hides the days since the last violence case.
"""

import copy

from api.errors import InvalidInput
from api.vocabularies.codes import RegionLevel

SMALL = (1, 2)
MIN_BASE = 3
ROW_COUNTS = ("violence_cases", "stunting_risk_cases", "open_cases", "overdue_referrals",
              "triaged_cases", "accepted_cases")
REFERRAL_STATUSES = ("pending", "accepted", "declined", "in_progress", "completed", "cancelled")
MEDIANS = {"median_days_to_triage": "triaged_cases",
           "median_days_to_first_acceptance": "accepted_cases"}


def check_area(area) -> None:
    """Analysts ask for a kecamatan or more: one kelurahan's totals are its small counts."""
    if area.level is RegionLevel.VILLAGE:
        raise InvalidInput({"area": ["Analysts see a kecamatan or a larger area."]})


def for_analyst(figures: dict) -> dict:
    """FIGURES with every small count and what could reveal it withheld (None)."""
    figures = copy.deepcopy(figures)
    figures["kelurahan"] = _rows(figures["kelurahan"])
    totals = figures["totals"]
    for name in ("violence_cases", "stunting_risk_cases", "open_cases", "children_measured"):
        totals[name] = _count(totals[name])
    for name in ("violence_by_type", "closed_by_reason"):
        totals[name] = {key: _count(value) for key, value in totals[name].items()}
    if (figures["totals"]["children_measured"] or 0) < MIN_BASE:
        totals.update(stunted_pct=None, wasted_pct=None, underweight_pct=None)
    for name in ("violence_cases", "stunting_risk_cases"):
        for month, _ in _to_withhold([(month, name) for month in figures["monthly"]]):
            month[name] = None
    sla = figures["sla"]
    for stage in ("triage", "acceptance"):
        on_time, late = sla[f"{stage}_on_time"], sla[f"{stage}_late"]
        if on_time + late < MIN_BASE or on_time in SMALL or late in SMALL:
            sla[f"{stage}_on_time_pct"] = None  # a share and its base give the count back
        sla[f"{stage}_on_time"], sla[f"{stage}_late"] = _count(on_time), _count(late)
    for outcome in figures["referral_outcomes"]:
        if outcome["referrals"] < MIN_BASE or outcome["completed"] in SMALL:
            outcome["completed_pct"] = None
        # the statuses add up to the referrals: one withheld status alone could be subtracted
        for _, status in _to_withhold([(outcome, status) for status in REFERRAL_STATUSES]):
            outcome[status] = None
        outcome["referrals"] = _count(outcome["referrals"])
    return figures


def _to_withhold(cells: list[tuple[dict, str]]) -> list[tuple[dict, str]]:
    """The cells (row, field) of one sum that must be withheld: every count of 1-2, and when
    that is one cell only, the smallest other non-zero count too, so that the sum minus the
    visible cells does not give it back (secondary suppression)."""
    withheld = [(row, name) for row, name in cells if row[name] in SMALL]
    if len(withheld) == 1:
        others = sorted(((row, name) for row, name in cells if row[name] and
                         row[name] not in SMALL), key=lambda cell: cell[0][cell[1]])
        withheld += others[:1]
    return withheld


def _count(value):
    return None if value in SMALL else value


def _rows(rows: list[dict]) -> list[dict]:
    shown = [dict(row, suppressed=False) for row in rows]
    for name in ROW_COUNTS:
        for row, _ in _to_withhold([(row, name) for row in shown]):
            _withhold(row, name)
    for original, row in zip(rows, shown, strict=True):
        few = original["violence_cases"] + original["stunting_risk_cases"] < MIN_BASE
        if few or row["violence_cases"] is None:
            _withhold(row, "days_since_last_violence_case")
        for median, base in MEDIANS.items():
            if original[base] < MIN_BASE:
                _withhold(row, median)
    return shown


def _withhold(row: dict, name: str) -> None:
    if row[name] is not None:
        row[name] = None
        row["suppressed"] = True
