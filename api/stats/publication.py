"""The analyst's answer, made of published cells only (stats/disclosure.py).

Every figure is a sum of published cells — of the kecamatan's months for a row, of the
kecamatan for a month of the series, of all of them for the totals — or a share of two such
sums. No raw count is read here, so no figure or difference of figures, within one answer or
across answers, can be a raw count that the rounding hid.
"""

from collections import Counter, defaultdict

from api.stats import release
from api.stats.disclosure import METHODOLOGY, ROUNDING_BASE, Months, share
from api.vocabularies.codes import Category, ViolenceType


def analyst_figures(*, area, months: Months, kecamatan: list[tuple[str, str]],
                    cells: list[release.Cell]) -> dict:
    """The KLA statistics of AREA in MONTHS for analysts: totals, one row per KECAMATAN
    ((code, name) pairs), the monthly series and triage on time, from CELLS."""
    total: Counter = Counter()
    by_district: defaultdict[str, Counter] = defaultdict(Counter)
    by_month: defaultdict = defaultdict(Counter)
    for cell in cells:
        total[cell.measure] += cell.value
        by_district[cell.district_code][cell.measure] += cell.value
        by_month[cell.month][cell.measure] += cell.value
    rows = [{"code": code, "name": name, **_summary(by_district[code])}
            for code, name in kecamatan]
    return {
        "area": {"code": area.code, "name": area.name, "level": area.level.value},
        "period": {"from": months.first_day.isoformat(), "to": months.last_day.isoformat()},
        "disclosure": {"rounding_base": ROUNDING_BASE, "methodology": METHODOLOGY},
        "totals": _summary(total),
        "kecamatan_count": len(rows),
        "zero_violence_kecamatan": sum(1 for row in rows if row["violence_cases"] == 0),
        "kecamatan": rows,
        "monthly": [{"month": f"{month:%Y-%m}",
                     "violence_cases": by_month[month][release.VIOLENCE_CASES],
                     "stunting_risk_cases": by_month[month][release.STUNTING_RISK_CASES]}
                    for month in months],
        "sla": _triage(total),
    }


def _summary(cells: Counter) -> dict:
    """Counts and shares of published CELLS added up (a Counter: a missing cell is 0)."""
    shares = {f"{name}_pct": share(cells[below], cells[with_score])
              for name, (with_score, below) in release.NUTRITION.items()}
    return {
        "violence_cases": cells[release.VIOLENCE_CASES],
        "violence_by_type": {kind.value: cells[form] for kind, form
                             in zip(ViolenceType, release.VIOLENCE_FORMS, strict=True)},
        "stunting_risk_cases": cells[release.STUNTING_RISK_CASES],
        "children_measured": cells[release.MEASURED],
        **shares,
    }


def _triage(cells: Counter) -> dict:
    on_time = sum(cells[release.TRIAGE_ON_TIME[category]] for category in Category)
    late = sum(cells[release.TRIAGE_LATE[category]] for category in Category)
    return {"triage_on_time_pct": share(on_time, on_time + late),
            "triage_on_time": on_time, "triage_late": late}
