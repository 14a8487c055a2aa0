"""GET /stats/kla as an analyst, against the attacks of an outside tester and one more: no
published figure, and no difference of published figures — within one answer, across answers
or over time — may give back a count of 1-4 (docs/statistics-disclosure.md)."""

import itertools
import random
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from api.cases.models import Case
from api.children.models import Child, Measurement
from api.stats import release
from api.stats.disclosure import published_cohort, rounded
from api.stats.models import StatisticsRelease
from api.vocabularies.codes import CaseStatus, Category, Role, Sex, Source, ViolenceType
from tests.access.views import KLA_STATISTICS_FOR_ANALYST, within
from tests.conftest import BALIKPAPAN, BALIKPAPAN_TIMUR, MANGGAR, child_report

WITA = ZoneInfo("Asia/Makassar")  # Balikpapan's calendar
BARU_ILIR = "6471021001"  # kecamatan Balikpapan Barat
BALIKPAPAN_KECAMATAN = [f"64710{n}" for n in range(1, 7)]
OCTOBER = {"from": "2026-10-01", "to": "2026-10-31"}
# figures about areas, not children
AREA_COUNTS = ("kecamatan_count", "zero_violence_kecamatan", "rounding_base")


def local(text: str) -> datetime:
    """A moment of Balikpapan's calendar (WITA, UTC+8)."""
    return datetime.fromisoformat(text).replace(tzinfo=WITA)


@pytest.fixture
def clock():
    """Mid-December 2026 in Balikpapan: October and November have ended."""
    with time_machine.travel(local("2026-12-15T10:00"), tick=False) as traveller:
        yield traveller


@pytest.fixture
def analyst(clock, make_user):
    return make_user("analyst", [BALIKPAPAN])


@pytest.fixture
def cases(session, make_user):
    """add(village, reported_at, count, …): cases reported at a local time, triaged on time."""
    reporter = make_user("caseworker", [BALIKPAPAN])
    number = itertools.count(900_001)  # references of their own, apart from the API's

    def add(village, reported_at, count=1, *, category=Category.VIOLENCE,
            types=("physical",)):
        child = Child(name="Anak", sex=Sex.MALE, birth_date=date(2018, 1, 1),
                      village_code=village)
        session.add(child)
        session.flush()
        created = local(reported_at)
        for _ in range(count):
            session.add(Case(
                id=uuid.uuid4(), reference=f"KS-6471-2026-{next(number):06d}",
                category=category, status=CaseStatus.TRIAGED,
                violence_types=list(types) if category is Category.VIOLENCE else [],
                village_code=village, source=Source.HOTLINE, reporter_id=reporter.id,
                reporter_role=Role.CASEWORKER, child_id=child.id,
                triage_due_at=created + timedelta(hours=24),
                triaged_at=created + timedelta(hours=1), created_at=created,
                updated_at=created))
        session.commit()

    return add


@pytest.fixture
def weighings(session, make_user):
    """add(village, measured_on, count, haz=, waz=, whz=): children weighed once each."""
    cadre = make_user("posyandu_cadre", [BALIKPAPAN])

    def add(village, measured_on, count=1, *, haz=0.0, waz=0.0, whz=0.0):
        for _ in range(count):
            child = Child(name="Balita", sex=Sex.FEMALE, birth_date=date(2025, 1, 1),
                          village_code=village)
            session.add(child)
            session.flush()
            session.add(Measurement(
                child_id=child.id, measured_on=date.fromisoformat(measured_on), age_days=600,
                weight_kg=9.0, height_cm=78.0, position="lying", haz=haz, waz=waz, whz=whz,
                haz_category="normal", waz_category="normal", whz_category="normal",
                recorded_by=cadre.id))
        session.commit()

    return add


def read(client, caller, **query) -> dict:
    response = client.get("/api/v1/stats/kla", query_string=query, headers=caller.headers)
    assert response.status_code == 200, response.json
    return response.json


def published_counts(body) -> list[int]:
    """Every count an analyst's answer publishes (not the counts of areas)."""
    found = []

    def walk(node, name=None):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, key)
        elif isinstance(node, list):
            for item in node:
                walk(item, name)
        elif isinstance(node, int) and not isinstance(node, bool) and name not in AREA_COUNTS:
            found.append(node)

    walk(body)
    return found


def assert_nothing_small(*bodies) -> None:
    """The analyst's answers BODIES show only the analyst's fields, and neither a published
    count nor the difference of two published counts, in one answer or across them, is 1-4."""
    for body in bodies:
        within(body, KLA_STATISTICS_FOR_ANALYST)
    counts = sorted({count for body in bodies for count in published_counts(body)})
    assert not [count for count in counts if count % 5], "a count that is no published cell"
    differences = {b - a for a, b in itertools.combinations(counts, 2)}
    assert not differences & {1, 2, 3, 4}


# --- the attacks -------------------------------------------------------------------------

def test_one_answer_gives_no_small_count_by_subtraction(client, analyst, cases, weighings):
    """Manggar in October: 5 violence cases and 1 stunting-risk case, all open; 3 children
    weighed, 2 underweight. Before, open 6 less violence 5 gave the withheld stunting-risk
    case back, and 66.7 % of 3 children measured gave 2 underweight children."""
    cases(MANGGAR, "2026-10-05T09:00", 5)
    cases(MANGGAR, "2026-10-06T09:00", category=Category.STUNTING_RISK)
    weighings(MANGGAR, "2026-10-07", 2, waz=-2.5)
    weighings(MANGGAR, "2026-10-07", waz=-1.0)
    body = read(client, analyst, area=BALIKPAPAN_TIMUR, **OCTOBER)
    totals = body["totals"]
    assert (totals["violence_cases"], totals["stunting_risk_cases"]) == (5, 0)
    assert (totals["children_measured"], totals["underweight_pct"]) == (5, None)
    assert "open_cases" not in totals and "kelurahan" not in body
    assert body["kecamatan"] == [{"code": BALIKPAPAN_TIMUR, "name": "BALIKPAPAN TIMUR",
                                  **totals}]
    assert_nothing_small(body)


def test_the_city_and_its_kecamatan_differ_by_no_small_count(client, analyst, cases,
                                                             make_user):
    """Ten cases in Balikpapan Timur and one case of trafficking in Baru Ilir. Before, the
    city (11) less Balikpapan Timur (10) was the one case, and its form was trafficking."""
    cases(MANGGAR, "2026-10-05T09:00", 10)
    cases(BARU_ILIR, "2026-10-09T09:00", types=("trafficking",))
    city = read(client, analyst, area=BALIKPAPAN, **OCTOBER)
    each = [read(client, analyst, area=code, **OCTOBER) for code in BALIKPAPAN_KECAMATAN]
    assert [row["code"] for row in city["kecamatan"]] == BALIKPAPAN_KECAMATAN
    for name in ("violence_cases", "stunting_risk_cases", "children_measured"):
        rows = [row[name] for row in city["kecamatan"]]
        assert city["totals"][name] == sum(rows) == sum(a["totals"][name] for a in each)
        assert rows == [a["totals"][name] for a in each]
    assert city["totals"]["violence_cases"] == 10
    assert {row["violence_by_type"]["trafficking"] for row in city["kecamatan"]} == {0}
    assert city["monthly"] == [{"month": "2026-10", "violence_cases": 10,
                                "stunting_risk_cases": 0}]
    assert_nothing_small(city, *each)
    # the office still counts every case
    supervisor = make_user("supervisor", [BALIKPAPAN])
    exact = read(client, supervisor, area=BALIKPAPAN, **OCTOBER)
    assert exact["totals"]["violence_by_type"]["trafficking"] == 1


def test_a_released_month_never_changes(client, cases, weighings, make_user):
    """Before, reading one day, then again after an RT head's report, moved 18 to 19 and
    sexual 0 to withheld. Now an analyst reads ended months only, and a month's figures are
    fixed at its first reading: a report made since, even one dated in that month, a late
    weighing and a later triage change nothing."""
    with time_machine.travel(local("2026-10-20T10:00"), tick=False) as traveller:
        analyst = make_user("analyst", [BALIKPAPAN])
        rt_head = make_user("rt_head", [MANGGAR])
        supervisor = make_user("supervisor", [BALIKPAPAN])
        cases(MANGGAR, "2026-10-03T09:00", 18)
        for query in (OCTOBER, {"from": "2026-10-20", "to": "2026-10-20"}):
            response = client.get("/api/v1/stats/kla", headers=analyst.headers,
                                  query_string={"area": BALIKPAPAN_TIMUR, **query})
            assert response.status_code == 422
            assert "months that have ended" in response.json["errors"]["to"][-1]

        traveller.move_to(local("2026-11-02T09:00"))
        first = read(client, analyst, area=BALIKPAPAN_TIMUR, **OCTOBER)
        assert first["totals"]["violence_cases"] == 20
        assert first["totals"]["violence_by_type"]["sexual"] == 0
        _report_sexual_violence(client, rt_head, incident_date="2026-11-01")
        assert read(client, analyst, area=BALIKPAPAN_TIMUR, **OCTOBER) == first

        # a report of 31 October that lands after the release, and a weighing of October
        # entered in November
        traveller.move_to(local("2026-10-31T23:59"))
        _report_sexual_violence(client, rt_head, incident_date="2026-10-31")
        traveller.move_to(local("2026-11-03T09:00"))
        weighings(MANGGAR, "2026-10-30", 5, haz=-3.0)
        assert read(client, analyst, area=BALIKPAPAN_TIMUR, **OCTOBER) == first
        assert read(client, analyst, area=BALIKPAPAN, **OCTOBER)["totals"] == first["totals"]
        october = read(client, supervisor, area=BALIKPAPAN_TIMUR, **OCTOBER)
        assert october["totals"]["violence_cases"] == 19  # the office sees the late report

        traveller.move_to(local("2027-01-05T09:00"))
        quarter = read(client, analyst, area=BALIKPAPAN_TIMUR, **{"from": "2026-10-01",
                                                                  "to": "2026-12-31"})
        assert quarter["monthly"][0] == first["monthly"][0]
        assert quarter["kecamatan"][0]["violence_by_type"]["sexual"] == 0
        assert_nothing_small(first, quarter)


def _report_sexual_violence(client, rt_head, *, incident_date: str) -> None:
    response = client.post("/api/v1/cases", headers=rt_head.headers, json=child_report(
        violence_types=["sexual"], incident_date=incident_date))
    assert response.status_code == 201, response.json


def test_forms_of_violence_cannot_be_bounded_from_below(client, analyst, cases):
    """Fourteen cases in a month, two of each of the seven forms. Rounded on its own, the
    count (15) would exceed what seven forms published as 0 can hold (14): each form would be
    proven to hold one or two cases. It is published as 10."""
    for kind in ViolenceType:
        cases(MANGGAR, "2026-10-05T09:00", 2, types=(kind.value,))
    body = read(client, analyst, area=BALIKPAPAN_TIMUR, **OCTOBER)
    assert body["totals"]["violence_cases"] == 10
    assert set(body["totals"]["violence_by_type"].values()) == {0}
    assert body["sla"]["triage_on_time"] == 10
    assert_nothing_small(body)


# --- the rules behind them ----------------------------------------------------------------

@pytest.mark.parametrize(("count", "published"), [
    (0, 0), (1, 0), (2, 0), (3, 5), (4, 5), (7, 5), (8, 10), (12, 10), (13, 15), (18, 20)])
def test_counts_are_rounded_to_the_nearest_multiple_of_five(count, published):
    assert rounded(count) == published


def _interval(published: int, ceiling: int | None) -> range:
    """The raw counts that publish PUBLISHED (any above the ceiling, when it is reached)."""
    if ceiling is not None and published == ceiling:
        return range(max(published - 2, 0), published + 100)
    return range(max(published - 2, 0), published + 3)


def _possible_without(form: str, published: dict, *, with_ceiling: bool = True) -> bool:
    """Whether some violence cases without FORM publish PUBLISHED: only then can the analyst
    not tell that FORM holds a case. Cases: at least the largest form, at most the sum of
    the forms (each case has one form or more), at least on time + late."""
    forms = {name: range(0, 1) if name == form else _interval(published[name], None)
             for name in release.VIOLENCE_FORMS}
    ceiling = (sum(published[name] for name in release.VIOLENCE_FORMS) + 10
               if with_ceiling else None)
    on_time, late = (_interval(published[release.TRIAGE_ON_TIME[Category.VIOLENCE]], ceiling),
                     _interval(published[release.TRIAGE_LATE[Category.VIOLENCE]], ceiling))
    for total in _interval(published[release.VIOLENCE_CASES], ceiling):
        if total < on_time.start + late.start:
            continue
        if all(counts.start <= total for counts in forms.values()) and sum(
                min(counts.stop - 1, total) for counts in forms.values()) >= total:
            return True
    return False


def _violence_cohort(rng: random.Random) -> dict[str, int]:
    """The raw counts of a random month of violence cases; half of them thin: every form
    with one or two cases, where rounding alone gives forms away."""
    kinds = list(release.VIOLENCE_FORMS)
    thin = rng.random() < 0.5
    reported = []
    for kind in kinds:  # single-form cases
        reported += [{kind}] * (rng.choice((1, 2, 2)) if thin else
                                rng.choice((0, 1, 2, 3, rng.randint(0, 12))))
    reported += [set(rng.sample(kinds, rng.randint(1, 3)))
                 for _ in range(rng.randint(0, 3 if thin else 6))]
    triage = [rng.choice(("on_time", "on_time", "late", "pending")) for _ in reported]
    return {release.VIOLENCE_CASES: len(reported),
            release.TRIAGE_ON_TIME[Category.VIOLENCE]: triage.count("on_time"),
            release.TRIAGE_LATE[Category.VIOLENCE]: triage.count("late"),
            **{kind: sum(kind in forms for forms in reported) for kind in kinds}}


def test_no_released_month_proves_a_form_of_violence_present():
    rng = random.Random(20261201)
    exposed_by_rounding_alone = 0
    for _ in range(3000):
        raw = _violence_cohort(rng)
        published = published_cohort(raw, forms=release.VIOLENCE_FORMS)
        assert all(value % 5 == 0 and abs(value - raw[name]) < 5
                   for name, value in published.items())
        for form in release.VIOLENCE_FORMS:
            if published[form] == 0:
                assert _possible_without(form, published), (raw, form)
        plain = {name: rounded(count) for name, count in raw.items()}
        exposed_by_rounding_alone += any(
            plain[form] == 0 and not _possible_without(form, plain, with_ceiling=False)
            for form in release.VIOLENCE_FORMS)
    assert exposed_by_rounding_alone > 50  # the months drawn do reach the dangerous ones


def test_rounding_alone_would_prove_every_form_present():
    """The ceiling on the cases is what keeps fourteen cases, two of each form, safe."""
    raw = {release.VIOLENCE_CASES: 14, release.TRIAGE_ON_TIME[Category.VIOLENCE]: 14,
           release.TRIAGE_LATE[Category.VIOLENCE]: 0,
           **dict.fromkeys(release.VIOLENCE_FORMS, 2)}
    plain = {name: rounded(count) for name, count in raw.items()}
    assert not any(_possible_without(form, plain, with_ceiling=False)
                   for form in release.VIOLENCE_FORMS)
    ceiled = published_cohort(raw, forms=release.VIOLENCE_FORMS)
    assert all(_possible_without(form, ceiled) for form in release.VIOLENCE_FORMS)


def test_shares_are_ratios_of_published_counts(client, analyst, weighings):
    """24 children, 9 stunted: published 25 and 10, so 40 % — not the exact 37.5 %, which
    with the published base would narrow the stunted count down."""
    weighings(MANGGAR, "2026-10-07", 9, haz=-2.5)
    weighings(MANGGAR, "2026-10-07", 15)
    totals = read(client, analyst, area=BALIKPAPAN_TIMUR, **OCTOBER)["totals"]
    assert (totals["children_measured"], totals["stunted_pct"]) == (25, 40.0)
    assert totals["wasted_pct"] == 0.0


def test_a_month_released_meanwhile_by_another_request_is_kept(client, session, analyst,
                                                               cases, monkeypatch):
    """Two first readings of one month at once: the release row decides; the one that finds
    it taken stores nothing and answers what the other stored."""
    session.add(StatisticsRelease(district_code=BALIKPAPAN_TIMUR, month=date(2026, 10, 1)))
    session.commit()
    cases(MANGGAR, "2026-10-05T09:00", 10)
    monkeypatch.setattr(release, "_unreleased", lambda session, codes, months: [
        (code, month) for code in codes for month in months])  # as if not yet released
    body = read(client, analyst, area=BALIKPAPAN_TIMUR, **OCTOBER)
    assert body["totals"]["violence_cases"] == 0


@pytest.mark.parametrize(("query", "field"), [
    ({"area": MANGGAR}, "area"),
    ({"from": "2026-10-02"}, "from"),
    ({"to": "2026-10-30"}, "to"),
    ({"to": "2026-12-31"}, "to"),
    ({"from": "2023-01-01", "to": "2026-01-31"}, "from")])
def test_analysts_ask_for_kecamatan_and_whole_ended_months(client, analyst, query, field):
    response = client.get("/api/v1/stats/kla", headers=analyst.headers,
                          query_string={"area": BALIKPAPAN_TIMUR, **query})
    assert response.status_code == 422 and field in response.json["errors"]
    assert "docs/statistics-disclosure.md" in " ".join(response.json["errors"][field]) or (
        field == "from" and "36 months" in response.json["errors"][field][0])


def test_by_default_an_analyst_reads_this_year_to_the_last_ended_month(client, analyst):
    body = read(client, analyst, area=BALIKPAPAN)
    assert body["period"] == {"from": "2026-01-01", "to": "2026-11-30"}
    assert [month["month"] for month in body["monthly"]] == [
        f"2026-{n:02d}" for n in range(1, 12)]
