"""The case file's actions (/app/kasus/<id>): each a plain form post through the same policy,
service, version check and audit as the API's action (Flask's test client, in-process)."""

import re
import uuid

import pytest
from sqlalchemy import select

from api.audit.models import AuditEvent
from api.cases.models import Case
from api.vocabularies.codes import Role
from tests.conftest import BALIKPAPAN, MANGGAR, child_report
from tests.web.conftest import csrf_token_of
from tests.web.console import signed_in  # noqa: F401  (a fixture)

CHANGED = "Kasus ini berubah sejak Anda membukanya"


@pytest.fixture
def reported(client, make_user):
    """A report of physical violence by an RT head of Manggar (reporter view)."""
    reporter = make_user("rt_head", [MANGGAR])
    return client.post("/api/v1/cases", json=child_report(), headers=reporter.headers).json


@pytest.fixture
def worker(signed_in):  # noqa: F811
    return signed_in(Role.CASEWORKER, [BALIKPAPAN])


def form_of(html: str, action: str) -> dict:
    """The hidden fields of the form posting to ACTION: csrf_token, version, shown."""
    form = re.search(r'<form method="post" action="[^"]*/' + action + r'"[^>]*>(.*?)</form>',
                     html, re.S).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    return {name: value.replace("&#34;", '"').replace("&quot;", '"')
            for name, value in fields.items()}


def post(browser, case_id, action: str, page: str | None = None, **fields):
    """Post the case file's ACTION form as it was on PAGE (default: the page now)."""
    page = page or browser.get(f"/app/kasus/{case_id}").get_data(as_text=True)
    return browser.post(f"/app/kasus/{case_id}/{action}", data={**form_of(page, action),
                                                                 **fields})


def api_case(client, make_user, case_id) -> tuple[dict, str]:
    reader = make_user("caseworker", [BALIKPAPAN])
    answer = client.get(f"/api/v1/cases/{case_id}", headers=reader.headers)
    return answer.json, answer.headers["ETag"]


def test_the_file_shows_every_field_the_timeline_and_the_plan_with_its_rules(worker, reported):
    html = worker.get(f"/app/kasus/{reported['id']}").get_data(as_text=True)
    for shown in ("Budi Santoso", "Jl. Mulawarman Gg. Damai", "Bruises on both arms",
                  "Orang tua", "Santoso", "Rumah tangga", "Riwayat kasus", "Dilaporkan",
                  "violence-protection", "UPTD_PPA", "Rencana rujukan", "WITA"):
        assert shown in html, shown
    assert 'action="/app/kasus/{}/triase"'.format(reported["id"]) in html


def test_the_forms_carry_the_etag_the_api_gives(worker, reported, client, make_user):
    html = worker.get(f"/app/kasus/{reported['id']}").get_data(as_text=True)
    _, etag = api_case(client, make_user, reported["id"])
    assert form_of(html, "triase")["version"] == etag


def test_triage_is_stored_audited_and_on_the_timeline(worker, reported, client, make_user,
                                                      session):
    answer = post(worker, reported["id"], "triase", risk_level="high", note="Segera")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("selesai=triase")
    case, _ = api_case(client, make_user, reported["id"])
    assert (case["status"], case["risk_level"]) == ("triaged", "high")
    assert case["assigned_to"] == str(worker.user.id)  # a caseworker's own triage
    page = worker.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Triase tersimpan." in page and "Ditriase" in page and "Segera" in page
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "case.triage", AuditEvent.subject_id == reported["id"])).one()
    assert event.actor_id == worker.user.id


def test_a_stale_triage_shows_what_changed_and_overwrites_nothing(worker, reported, client,
                                                                  make_user, signed_in):  # noqa: F811
    opened = worker.get(f"/app/kasus/{reported['id']}").get_data(as_text=True)
    other = signed_in(Role.CASEWORKER, [BALIKPAPAN])
    assert post(other, reported["id"], "triase", risk_level="medium").status_code == 303
    answer = post(worker, reported["id"], "triase", page=opened, risk_level="low",
                  note="ketikan saya")
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    assert CHANGED in html
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]*)</td><td>([^<]*)</td></tr>',
                      html)
    assert ("Tingkat risiko", "—", "Sedang") in rows
    assert ("Status", "Dilaporkan", "Ditelaah") in rows
    assert "ketikan saya" in html  # what was typed is kept
    assert form_of(html, "triase")["version"] != form_of(opened, "triase")["version"]
    case, _ = api_case(client, make_user, reported["id"])
    assert case["risk_level"] == "medium"


def test_a_triage_without_risk_is_refused_beside_the_field_and_nothing_stored(
        worker, reported, client, make_user):
    answer = post(worker, reported["id"], "triase", note="tanpa risiko")
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    error = re.search(r'id="err-triage-risk_level">([^<]+)<', html).group(1)
    assert error == "Tingkat risiko wajib diisi."
    assert 'aria-invalid="true"' in html
    case, _ = api_case(client, make_user, reported["id"])
    assert case["status"] == "reported" and case["risk_level"] is None


def test_an_assignee_from_another_city_is_refused(worker, reported, signed_in):  # noqa: F811
    stranger = signed_in(Role.CASEWORKER, ["6371"])
    answer = post(worker, reported["id"], "triase", risk_level="low",
                  assigned_to=str(stranger.user.id))
    assert answer.status_code == 422
    assert "Pilih petugas dari wilayah kasus ini." in answer.get_data(as_text=True)


def test_routing_creates_the_plans_five_referrals_shown_with_their_rules(worker, reported):
    assert post(worker, reported["id"], "triase", risk_level="high").status_code == 303
    answer = post(worker, reported["id"], "rujuk")
    assert answer.status_code == 303
    html = worker.get(answer.headers["Location"]).get_data(as_text=True)
    table = re.search(r'<table class="referrals">(.*?)</table>', html, re.S).group(1)
    rules = re.findall(r'<td class="rule">([^<]+)</td>', table)
    assert sorted(rules) == sorted(["violence-protection", "violence-medical",
                                    "violence-social-assistance", "violence-job-training",
                                    "violence-school"])
    assert "Dirujuk" in html


def test_routing_an_untriaged_case_is_not_offered_and_refused(worker, reported):
    html = worker.get(f"/app/kasus/{reported['id']}").get_data(as_text=True)
    assert f"/app/kasus/{reported['id']}/rujuk\"" not in html
    token = csrf_token_of(html)
    answer = worker.post(f"/app/kasus/{reported['id']}/rujuk", data={
        "csrf_token": token, "version": form_of(html, "triase")["version"]})
    assert answer.status_code == 409
    assert "Triase kasus ini sebelum merujuknya." in answer.get_data(as_text=True)


def test_a_referral_by_hand_checks_the_agencys_services(worker, reported, client, make_user):
    assert post(worker, reported["id"], "triase", risk_level="low").status_code == 303
    refused = post(worker, reported["id"], "rujukan", agency="DISDIK",
                   service="nutrition_intervention")
    assert refused.status_code == 422
    assert "Dinas ini tidak menyediakan layanan tersebut." in refused.get_data(as_text=True)
    answer = post(worker, reported["id"], "rujukan", agency="DINSOS", service="family_support",
                  due_in_hours="48", note="kunjungan rumah")
    assert answer.status_code == 303
    case, _ = api_case(client, make_user, reported["id"])
    assert case["status"] == "referred"


def test_closing_needs_a_reason_and_no_open_referral(worker, reported, client, make_user):
    assert post(worker, reported["id"], "triase", risk_level="low").status_code == 303
    page = worker.get(f"/app/kasus/{reported['id']}").get_data(as_text=True)
    hidden = form_of(page, "status")
    answer = worker.post(f"/app/kasus/{reported['id']}/status",
                         data={**hidden, "to": "closed", "reason": ""})
    assert answer.status_code == 422
    assert "Pilih alasan penutupan." in answer.get_data(as_text=True)
    answer = worker.post(f"/app/kasus/{reported['id']}/status",
                         data={**hidden, "to": "closed", "reason": "unfounded"})
    assert answer.status_code == 303
    case, _ = api_case(client, make_user, reported["id"])
    assert (case["status"], case["closure_reason"]) == ("closed", "unfounded")
    html = worker.get(f"/app/kasus/{reported['id']}").get_data(as_text=True)
    assert "Buka kembali" not in html  # a caseworker may not reopen


def test_only_a_supervisor_reopens(worker, reported, signed_in, client, make_user):  # noqa: F811
    assert post(worker, reported["id"], "triase", risk_level="low").status_code == 303
    page = worker.get(f"/app/kasus/{reported['id']}").get_data(as_text=True)
    assert worker.post(f"/app/kasus/{reported['id']}/status", data={
        **form_of(page, "status"), "to": "closed", "reason": "resolved"}).status_code == 303
    page = worker.get(f"/app/kasus/{reported['id']}").get_data(as_text=True)
    assert "Buka kembali" not in page
    _, etag = api_case(client, make_user, reported["id"])
    refused = worker.post(f"/app/kasus/{reported['id']}/status", data={
        "csrf_token": csrf_token_of(page), "version": etag, "to": "triaged"})
    assert refused.status_code == 403
    supervisor = signed_in(Role.SUPERVISOR, [BALIKPAPAN])
    page = supervisor.get(f"/app/kasus/{reported['id']}").get_data(as_text=True)
    assert "Buka kembali sebagai: Ditelaah" in page
    assert supervisor.post(f"/app/kasus/{reported['id']}/status", data={
        **form_of(page, "status"), "to": "triaged"}).status_code == 303
    case, _ = api_case(client, make_user, reported["id"])
    assert case["status"] == "triaged"


def test_a_post_without_the_csrf_token_is_refused(worker, reported, client, make_user):
    page = worker.get(f"/app/kasus/{reported['id']}").get_data(as_text=True)
    fields = form_of(page, "triase")
    del fields["csrf_token"]
    answer = worker.post(f"/app/kasus/{reported['id']}/triase",
                         data={**fields, "risk_level": "high"})
    assert answer.status_code == 400
    case, _ = api_case(client, make_user, reported["id"])
    assert case["risk_level"] is None


def test_an_unknown_field_is_refused(worker, reported):
    answer = post(worker, reported["id"], "triase", risk_level="high", status="closed")
    assert answer.status_code == 422
    assert "Isian tidak dikenal dikirim." in answer.get_data(as_text=True)


@pytest.mark.parametrize(("role", "areas", "agency"), [
    (Role.AGENCY_OFFICER, (), "DINSOS"),
    (Role.ANALYST, (BALIKPAPAN,), None),
])
def test_agency_officers_and_analysts_cannot_act(signed_in, reported, role, areas,  # noqa: F811
                                                 agency, worker, session):
    page = worker.get(f"/app/kasus/{reported['id']}").get_data(as_text=True)
    outsider = signed_in(role, areas, agency)
    token = csrf_token_of(outsider.get("/app/masuk").get_data(as_text=True))
    answer = outsider.post(f"/app/kasus/{reported['id']}/triase", data={
        **form_of(page, "triase"), "csrf_token": token, "risk_level": "high"})
    assert answer.status_code == 403
    assert session.get(Case, uuid.UUID(reported["id"])).risk_level is None


def test_possible_duplicates_side_by_side_and_set_aside(worker, client, make_user):
    reporter = make_user("rt_head", [MANGGAR])
    first = client.post("/api/v1/cases", json=child_report(), headers=reporter.headers).json
    second = client.post("/api/v1/cases", json=child_report(description="Lagi"),
                         headers=reporter.headers).json
    html = worker.get(f"/app/kasus/{second['id']}").get_data(as_text=True)
    table = re.search(r'<table class="side-by-side">(.*?)</table>', html, re.S).group(1)
    assert first["reference"] in table and second["reference"] in table
    assert "Budi Santoso" in table
    answer = post(worker, second["id"], "ganda", other_case_id=first["id"],
                  decision="not_duplicate", note="anak berbeda")
    assert answer.status_code == 303
    html = worker.get(f"/app/kasus/{second['id']}").get_data(as_text=True)
    assert 'class="side-by-side"' not in html


def test_a_confirmed_duplicate_closes_the_newer_case(worker, client, make_user):
    reporter = make_user("rt_head", [MANGGAR])
    first = client.post("/api/v1/cases", json=child_report(), headers=reporter.headers).json
    second = client.post("/api/v1/cases", json=child_report(description="Lagi"),
                         headers=reporter.headers).json
    answer = post(worker, first["id"], "ganda", other_case_id=second["id"],
                  decision="confirmed")
    assert answer.status_code == 303
    newer, _ = api_case(client, make_user, second["id"])
    older, _ = api_case(client, make_user, first["id"])
    assert (newer["status"], newer["closure_reason"]) == ("closed", "duplicate")
    assert older["status"] == "reported"


def test_a_refused_action_showing_the_case_file_is_audited_as_a_read(worker, reported,
                                                                     session):
    def reads() -> int:
        return len(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "case.read", AuditEvent.subject_id == reported["id"],
            AuditEvent.actor_id == worker.user.id)).all())

    opened = worker.get(f"/app/kasus/{reported['id']}").get_data(as_text=True)
    before = reads()
    assert post(worker, reported["id"], "triase", page=opened,
                note="tanpa risiko").status_code == 422
    stale = form_of(opened, "triase") | {"version": '"stale"', "risk_level": "low"}
    assert worker.post(f"/app/kasus/{reported['id']}/triase",
                       data=stale).status_code == 409
    assert reads() == before + 2
