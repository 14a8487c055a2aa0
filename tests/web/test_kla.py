"""The KLA dashboard (/app/kla): the figures of GET /stats/kla for the caller, the same
disclosure for analysts, and the API's CSV as an audited export."""

import csv
import io
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import select

from api.audit.models import AuditEvent
from api.cases.models import Case
from api.children.models import Child
from api.vocabularies.codes import CaseStatus, Category, Role, Sex, Source
from tests.conftest import BALIKPAPAN, BANJARMASIN, MANGGAR
from tests.servers import bearer
from tests.web.console import routed_case, signed_in  # noqa: F401  (a fixture)
from tests.web.test_accessibility import serious_violations

KECAMATAN = "647101"  # Balikpapan Timur
PERIOD = {"area": KECAMATAN, "from": "2026-01-01", "to": "2026-06-30"}
WITA = ZoneInfo("Asia/Makassar")


@pytest.fixture
def three_cases(session, make_user):
    """Three violence cases in Manggar, one a month (January to March 2026): exact for the
    office, one published 0 a month for analysts."""
    reporter = make_user("caseworker", [BALIKPAPAN])
    child = Child(name="Rahasia Anak", sex=Sex.FEMALE, birth_date=date(2016, 3, 3),
                  village_code=MANGGAR)
    session.add(child)
    session.flush()
    for month in (1, 2, 3):
        created = datetime(2026, month, 10, 9, 0, tzinfo=WITA)
        session.add(Case(
            id=uuid.uuid4(), reference=f"KS-6471-2026-{900 + month:06d}",
            category=Category.VIOLENCE, status=CaseStatus.REPORTED, violence_types=["physical"],
            village_code=MANGGAR, source=Source.HOTLINE, reporter_id=reporter.id,
            reporter_role=Role.CASEWORKER, child_id=child.id, description="Rahasia uraian",
            triage_due_at=created + timedelta(hours=24), created_at=created,
            updated_at=created))
    session.commit()


def _manggar_row(html: str) -> str:
    start = html.index("<th scope=\"row\">MANGGAR</th>")
    return html[start:html.index("</tr>", start)]


def test_the_supervisor_sees_each_kelurahan_s_distance_from_zero(signed_in, three_cases):  # noqa: F811
    page = signed_in(Role.SUPERVISOR, [BALIKPAPAN]).get("/app/kla", query_string=PERIOD)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    row = _manggar_row(html)
    assert "band-far" in row and "3 kasus atau lebih" in row and ">3</td>" in row
    assert "nol kasus" in html  # Lamaru, Teritip, … have none
    assert 'id="grafik-wilayah"' in html and 'id="grafik-bulanan"' in html
    assert 'id="tabel-bulanan"' in html and 'id="tabel-rujukan"' not in html  # no referral yet
    assert "vendor/chart.js/chart.umd.min.js" in html
    assert "Rahasia" not in html  # aggregates only


def test_the_analyst_sees_only_published_kecamatan_counts(signed_in, three_cases):  # noqa: F811
    page = signed_in(Role.ANALYST, [BALIKPAPAN]).get("/app/kla", query_string=PERIOD)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="disamarkan"' in html and "kelipatan 5" in html
    start = html.index("<th scope=\"row\">BALIKPAPAN TIMUR</th>")
    row = html[start:html.index("</tr>", start)]
    assert "band-zero" in row and ">0</td>" in row  # one case a month, published as 0
    assert "MANGGAR" not in html.split('id="tabel-wilayah"')[1]  # no kelurahan row
    assert "Hasil rujukan per dinas" not in html
    for personal in ("Rahasia", "KS-6471", "Budi"):
        assert personal not in html


def test_the_analyst_is_told_beside_the_field_to_ask_for_whole_months(signed_in):  # noqa: F811
    page = signed_in(Role.ANALYST, [BALIKPAPAN]).get(
        "/app/kla", query_string={**PERIOD, "from": "2026-01-05"})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'data-error-for="from">Analis melihat bulan utuh' in html


def test_the_csv_is_the_apis_and_is_audited_as_an_export(signed_in, three_cases, client,  # noqa: F811
                                                         make_user, session):
    browser = signed_in(Role.SUPERVISOR, [BALIKPAPAN])
    answer = browser.get("/app/kla.csv", query_string=PERIOD)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert {"Kelurahan", "Kasus kekerasan baru"} <= set(rows[0])  # the page's language
    supervisor = make_user("supervisor", [BALIKPAPAN])
    api = client.get("/api/v1/stats/kla.csv", query_string={**PERIOD, "lang": "id"},
                     headers=supervisor.headers)
    assert answer.get_data() == api.get_data()
    exports = session.scalars(select(AuditEvent).where(
        AuditEvent.actor_id == browser.user.id, AuditEvent.action == "export")).all()
    assert len(exports) == 1 and exports[0].details["area"] == KECAMATAN


@pytest.mark.parametrize("role, areas, agency", [
    (Role.AGENCY_OFFICER, [BANJARMASIN], "DINSOS"), (Role.AGENCY_OFFICER, [], "DINSOS"),
    (Role.RT_HEAD, ["6471011001"], None), (Role.ADMIN, [], None)])
def test_the_dashboard_refuses_roles_without_statistics(signed_in, role, areas, agency):  # noqa: F811
    browser = signed_in(role, areas, agency)
    assert browser.get("/app/kla", query_string=PERIOD).status_code == 403
    assert browser.get("/app/kla.csv", query_string=PERIOD).status_code == 403


def test_a_caseworker_may_not_ask_for_another_city(signed_in):  # noqa: F811
    page = signed_in(Role.CASEWORKER, [BANJARMASIN]).get("/app/kla", query_string=PERIOD)
    assert page.status_code == 403


# ---------- in Chromium, on the served app ----------

def _console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    return errors


def test_in_the_browser_the_dashboard_draws_its_charts_beside_their_tables(open_page, server):
    routed_case(server, child_name="Grafik Anak")
    page = open_page("demo_supervisor")
    errors = _console_errors(page)
    page.goto("/app/kla?area=6471")
    page.wait_for_function("() => document.querySelector('#grafik-bulanan').chart")
    drawn = page.evaluate("""() => [...document.querySelectorAll('canvas[data-chart]')]
        .map(c => [c.id, c.chart.config.type, c.width > 0 && c.height > 0])""")
    assert drawn == [["grafik-wilayah", "bar", True], ["grafik-bulanan", "line", True]]
    assert page.locator("#tabel-wilayah tbody tr").count() > 10  # Balikpapan's kelurahan
    assert "MANGGAR" in page.inner_text("#tabel-wilayah")
    assert page.locator("#tabel-rujukan").is_visible()
    assert errors == []  # nothing refused by the Content-Security-Policy
    assert serious_violations(page) == []


def test_in_the_browser_the_csv_downloads_and_is_audited(open_page, server):
    page = open_page("demo_supervisor")
    page.goto("/app/kla?area=647101")
    with page.expect_download() as download:
        page.get_by_role("link", name="Unduh CSV").click()
    saved = download.value.path()
    assert download.value.suggested_filename.startswith("kla-647101-")
    with open(saved, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["Kelurahan"] for row in rows} >= {"MANGGAR", "LAMARU"}
    events = requests.get(f"{server['base']}/audit-events", timeout=10,
                          params={"action": "export"},
                          headers=bearer(server["tokens"]["demo_supervisor"])).json()
    assert any(event["details"].get("area") == "647101" and event["actor_role"] == "supervisor"
               for event in events)


def test_in_the_browser_the_analyst_sees_suppressed_counts_only(open_page):
    page = open_page("demo_analyst")
    page.goto("/app/kla?area=6471")
    page.wait_for_function("() => document.querySelector('#grafik-wilayah').chart")
    assert "dibulatkan ke kelipatan 5" in page.inner_text("#disamarkan")
    assert "Kecamatan" in page.inner_text("#tabel-wilayah thead")
    html = page.content()
    assert "KS-6471" not in html and "MANGGAR" not in html  # no case, no kelurahan
    assert "Hasil rujukan per dinas" not in html
    assert serious_violations(page) == []


def test_in_the_browser_the_dashboard_is_refused_to_agencies_and_reporters(open_page):
    for username in ("demo_agency_officer", "demo_rt_head", "demo_admin"):
        page = open_page(username)
        assert page.goto("/app/kla?area=6471").status == 403
