"""The staff queue (/app/kasus): the caller's open cases, emergencies and overdue first, then by
deadline; filters as a GET form with counts; keyset pages; its refreshable fragment; refused
to whoever may not triage (Flask's test client, in-process)."""

import re
import uuid
from datetime import timedelta

import pytest

from api.cases.models import Case
from api.db import utcnow
from api.vocabularies.codes import Role
from tests.conftest import BALIKPAPAN, BANJARMASIN, MANGGAR, child_report, stunting_report
from tests.web.console import signed_in  # noqa: F401  (a fixture)


@pytest.fixture
def worker(signed_in):  # noqa: F811
    return signed_in(Role.CASEWORKER, [BALIKPAPAN])


@pytest.fixture
def report(client, make_user):
    reporter = make_user("rt_head", [MANGGAR])

    def file(**overrides) -> dict:
        answer = client.post("/api/v1/cases", json=child_report(**overrides),
                             headers=reporter.headers)
        assert answer.status_code == 201, answer.json
        return answer.json
    return file


def references(html: str) -> list[str]:
    """The case references of the queue's rows, top first."""
    return re.findall(r'<li class="card case-row[^"]*" data-reference="([^"]+)"', html)


def make_overdue(session, case_id: str) -> None:
    case = session.get(Case, uuid.UUID(case_id))
    case.triage_due_at = utcnow() - timedelta(hours=2)
    session.commit()


def test_emergencies_then_overdue_then_by_deadline(worker, report, session):
    later = report(child={"name": "Anak Satu", "sex": "male", "birth_date": "2017-05-04"})
    overdue = report(child={"name": "Anak Dua", "sex": "female", "birth_date": "2016-01-01"})
    emergency = report(emergency=True,
                       child={"name": "Anak Tiga", "sex": "male", "birth_date": "2015-03-03"})
    make_overdue(session, overdue["id"])
    page = worker.get("/app/kasus")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert references(html)[:3] == [emergency["reference"], overdue["reference"],
                                    later["reference"]]
    row = html[html.index(f'data-reference="{overdue["reference"]}"'):]
    row = row[:row.index("</li>")]
    # flagged in words and a symbol, not by colour alone; the deadline in the kelurahan's time
    assert "⏰ Terlambat" in row and "(terlambat)" in row and "WITA" in row
    assert "Batas waktu triase" in row


def test_filters_and_their_counts(worker, report, client, make_user):
    report()
    report(category="stunting_risk", violence_types=[], perpetrator_relation=None,
           incident_place=None, child=stunting_report()["child"])
    html = worker.get("/app/kasus", query_string={"category": "stunting_risk"}
                      ).get_data(as_text=True)
    assert len(references(html)) == 1
    assert re.search(r'<option value="violence"[^>]*>[^<]*\(1\)</option>', html)
    assert re.search(r'<option value="stunting_risk" selected>[^<]*\(1\)</option>', html)
    assert re.search(r'<option value="reported"[^>]*>Dilaporkan \(2\)</option>', html)
    assert "Budi Santoso" not in html  # the violence report is filtered out


def test_search_by_reference_or_name(worker, report):
    wanted = report(child={"name": "Siti Rahma", "sex": "female", "birth_date": "2016-02-02"})
    report()
    by_name = worker.get("/app/kasus", query_string={"q": "rahma"}).get_data(as_text=True)
    assert references(by_name) == [wanted["reference"]]
    by_reference = worker.get("/app/kasus", query_string={"q": wanted["reference"]})
    assert references(by_reference.get_data(as_text=True)) == [wanted["reference"]]


def test_a_bad_filter_is_named_beside_its_field(worker, report):
    report()
    page = worker.get("/app/kasus", query_string={"q": "x"})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert re.search(r'id="err-q">[^<]+<', html)
    assert references(html) == []


def test_pages_follow_with_a_cursor(worker, report, monkeypatch):
    from api.web import staff

    monkeypatch.setattr(staff, "QUEUE_PAGE_SIZE", 2)
    filed = [report(child={"name": f"Anak {n}", "sex": "male", "birth_date": "2016-01-01"})
             for n in range(5)]
    seen, url = [], "/app/kasus"
    while url:
        html = worker.get(url).get_data(as_text=True)
        seen += references(html)
        found = re.search(r'<a class="button secondary" href="([^"]+)" rel="next">Berikutnya',
                          html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == [case["reference"] for case in filed]  # by deadline: the oldest first


def test_the_fragment_is_the_rows_alone_under_the_same_rules(worker, report, signed_in):  # noqa: F811
    case = report()
    fragment = worker.get("/app/kasus/daftar").get_data(as_text=True)
    assert references(fragment) == [case["reference"]]
    assert "<html" not in fragment and 'class="queue-rows"' in fragment
    analyst = signed_in(Role.ANALYST, [BALIKPAPAN])
    refused = analyst.get("/app/kasus/daftar")
    assert refused.status_code == 403 and case["reference"] not in refused.get_data(as_text=True)


def test_another_citys_caseworker_sees_none_of_them(report, signed_in):  # noqa: F811
    case = report()
    html = signed_in(Role.CASEWORKER, [BANJARMASIN]).get("/app/kasus").get_data(as_text=True)
    assert case["reference"] not in html and "Terbuka: 0" in html


@pytest.mark.parametrize(("role", "areas", "agency"), [
    (Role.AGENCY_OFFICER, (), "DINSOS"),
    (Role.ANALYST, (BALIKPAPAN,), None),
    (Role.RT_HEAD, (MANGGAR,), None),
])
def test_who_may_not_triage_is_refused_the_queue(signed_in, report, role, areas,  # noqa: F811
                                                 agency):
    case = report()
    page = signed_in(role, areas, agency).get("/app/kasus")
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert case["reference"] not in html and "Budi" not in html
    assert "Peran Anda tidak dapat membuka halaman ini." in html


@pytest.mark.parametrize(("role", "areas", "agency"), [
    (Role.AGENCY_OFFICER, (), "DINSOS"),
    (Role.ANALYST, (BALIKPAPAN,), None),
])
def test_agency_officers_and_analysts_cannot_open_a_case_file(signed_in, report, role,  # noqa: F811
                                                              areas, agency):
    case = report()
    page = signed_in(role, areas, agency).get(f"/app/kasus/{case['id']}")
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert "Budi" not in html and "Bruises" not in html and case["reference"] not in html


def test_the_queue_is_in_the_staff_navigation(worker, signed_in):  # noqa: F811
    assert 'href="/app/kasus"' in worker.get("/app/kasus").get_data(as_text=True)
    reporter = signed_in(Role.RT_HEAD, [MANGGAR])
    assert 'href="/app/kasus"' not in reporter.get("/app/lapor").get_data(as_text=True)


def test_closed_cases_leave_the_queue_and_its_counts(worker, report, client, make_user):
    kept, closed = report(), report(child={"name": "Dewi", "sex": "female",
                                           "birth_date": "2014-04-04"})
    staff = make_user("caseworker", [BALIKPAPAN])
    url = f"/api/v1/cases/{closed['id']}"
    etag = client.get(url, headers=staff.headers).headers["ETag"]
    assert client.post(f"{url}/transitions", json={"to": "closed", "reason": "unfounded"},
                       headers={**staff.headers, "If-Match": etag}).status_code == 200
    html = worker.get("/app/kasus").get_data(as_text=True)
    assert references(html) == [kept["reference"]]
    assert "Terbuka: 1 ·" in html
