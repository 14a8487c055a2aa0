"""The agencies' referral board (/app/rujukan): the agency view only, moves through the
same service, policy and audit as the API, each carrying the referral's version."""

import html as html_text
import re
import uuid
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update

from api.audit.models import AuditEvent
from api.db import utcnow
from api.referrals.models import Referral
from api.vocabularies.codes import Role
from tests.conftest import BALIKPAPAN, child_report
from tests.servers import bearer
from tests.web.conftest import csrf_token_of
from tests.web.console import routed_case, signed_in  # noqa: F401  (a fixture)
from tests.web.test_accessibility import serious_violations

NARRATIVE = child_report()["description"]


def _if_match(client, caller, url):
    return {**caller.headers, "If-Match": client.get(url, headers=caller.headers).headers["ETag"]}


@pytest.fixture
def routed(client, make_user):
    """A high-risk case of physical violence, reported by an RT head, triaged and routed:
    one of its referrals goes to DINSOS."""
    reporter = make_user("rt_head", ["6471011001"])
    worker = make_user("caseworker", [BALIKPAPAN])
    case = client.post("/api/v1/cases", json=child_report(), headers=reporter.headers).json
    url = f"/api/v1/cases/{case['id']}"
    assert client.post(f"{url}/triage", json={"risk_level": "high"},
                       headers=_if_match(client, worker, url)).status_code == 200
    assert client.post(f"{url}/route", headers=_if_match(client, worker, url)).status_code == 200
    referrals = client.get("/api/v1/referrals", query_string={"case_id": case["id"]},
                           headers=worker.headers).json
    dinsos = next(r for r in referrals if r["agency"] == "DINSOS")
    return {"case": case, "referral": dinsos, "reporter": reporter, "worker": worker}


@pytest.fixture
def officer(signed_in):  # noqa: F811
    return signed_in(Role.AGENCY_OFFICER, agency="DINSOS")


def _card(html: str, referral_id: str) -> str:
    start = html.index(f'id="r-{referral_id}"')
    return html[start:html.index("</li>", start)]


def _move(browser, referral_id, html, **fields):
    card = _card(html, referral_id)
    version = html_text.unescape(re.search(r'name="version" value="([^"]+)"', card).group(1))
    return browser.post(f"/app/rujukan/{referral_id}/langkah",
                        data={"csrf_token": csrf_token_of(html), "version": version, **fields})


def test_the_board_shows_the_agencys_referral_pending_in_the_agency_view(officer, routed):
    page = officer.get("/app/rujukan")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    card = _card(html, routed["referral"]["id"])
    assert routed["case"]["reference"] in card and "Budi Santoso" in card
    assert "Bantuan sosial" in card and "Menunggu" in card
    assert "WITA" in card  # the due time in Balikpapan's local time
    # never the reporter, the narrative or the perpetrator (DESIGN §4)
    assert NARRATIVE not in html and "Bruises" not in html
    assert routed["reporter"].username not in html
    assert "Orang tua" not in html and "perpetrator" not in html and "Pelaku" not in html
    # only DINSOS's referral of the five
    assert html.count('class="card referral') == 1


def test_an_overdue_referral_is_flagged_in_words_not_colour_alone(officer, routed, session):
    session.execute(update(Referral).where(Referral.id == uuid.UUID(routed["referral"]["id"]))
                    .values(due_at=utcnow() - timedelta(hours=2)))
    session.commit()
    card = _card(officer.get("/app/rujukan").get_data(as_text=True), routed["referral"]["id"])
    assert '<strong class="overdue">⚠ Terlambat</strong>' in card


def test_accepting_then_completing_moves_the_referral_and_is_audited(officer, routed, client,
                                                                     session):
    referral_id = routed["referral"]["id"]
    html = officer.get("/app/rujukan").get_data(as_text=True)
    answer = _move(officer, referral_id, html, to="accepted")
    assert answer.status_code == 303
    html = officer.get(answer.headers["Location"]).get_data(as_text=True)
    assert "diterima" in html
    assert "Diterima" in _card(html, referral_id)
    case = client.get(f"/api/v1/cases/{routed['case']['id']}",
                      headers=routed["worker"].headers).json
    assert case["status"] == "in_service"
    answer = _move(officer, referral_id, html, to="completed", outcome="PKH didaftarkan.")
    assert answer.status_code == 303
    done = client.get(f"/api/v1/referrals/{referral_id}", headers=routed["worker"].headers).json
    assert done["status"] == "completed" and done["outcome"] == "PKH didaftarkan."
    actions = set(session.scalars(select(AuditEvent.action).where(
        AuditEvent.actor_id == officer.user.id)))
    assert {"referral.transition", "referral.list"} <= actions


def test_declining_without_a_reason_is_refused_beside_the_field(officer, routed, client):
    referral_id = routed["referral"]["id"]
    html = officer.get("/app/rujukan").get_data(as_text=True)
    answer = _move(officer, referral_id, html, to="declined")
    assert answer.status_code == 422
    card = _card(answer.get_data(as_text=True), referral_id)
    assert re.search(r'id="err-f-[^"]+-reason">Alasan penolakan wajib diisi', card)
    assert client.get(f"/api/v1/referrals/{referral_id}", headers=routed["worker"].headers
                      ).json["status"] == "pending"
    answer = _move(officer, referral_id, html, to="declined", reason="Bukan wilayah kami.")
    assert answer.status_code == 303
    assert client.get(f"/api/v1/referrals/{referral_id}", headers=routed["worker"].headers
                      ).json["status"] == "declined"


def test_a_move_on_a_referral_changed_since_the_board_was_opened_is_not_made(
        officer, routed, client, make_user):
    referral_id = routed["referral"]["id"]
    html = officer.get("/app/rujukan").get_data(as_text=True)  # the board as first opened
    url = f"/api/v1/referrals/{referral_id}"
    api_officer = make_user("agency_officer", agency="DINSOS")
    assert client.post(f"{url}/transitions", json={"to": "accepted"},
                       headers=_if_match(client, api_officer, url)).status_code == 200
    answer = _move(officer, referral_id, html, to="declined", reason="Bukan wilayah kami.")
    assert answer.status_code == 412
    card = _card(answer.get_data(as_text=True), referral_id)
    assert "sudah berubah sejak Anda membukanya" in card and "Diterima" in card
    assert client.get(url, headers=routed["worker"].headers).json["status"] == "accepted"


def test_a_move_the_workflow_forbids_is_refused(officer, routed, client):
    referral_id = routed["referral"]["id"]
    html = officer.get("/app/rujukan").get_data(as_text=True)
    answer = _move(officer, referral_id, html, to="cancelled", reason="Tidak perlu.")
    assert answer.status_code == 409
    assert "tidak dapat dilakukan" in _card(answer.get_data(as_text=True), referral_id)
    assert client.get(f"/api/v1/referrals/{referral_id}", headers=routed["worker"].headers
                      ).json["status"] == "pending"


def test_another_agency_neither_sees_nor_moves_the_referral(signed_in, routed):  # noqa: F811
    other = signed_in(Role.AGENCY_OFFICER, agency="DINKES")
    html = other.get("/app/rujukan").get_data(as_text=True)
    assert routed["referral"]["id"] not in html
    answer = other.post(f"/app/rujukan/{routed['referral']['id']}/langkah",
                        data={"csrf_token": csrf_token_of(html), "version": '"x"',
                              "to": "accepted"})
    assert answer.status_code == 404


@pytest.mark.parametrize("role, areas", [(Role.RT_HEAD, ["6471011001"]),
                                         (Role.CASEWORKER, [BALIKPAPAN]),
                                         (Role.ANALYST, [BALIKPAPAN]), (Role.ADMIN, [])])
def test_the_board_refuses_every_role_but_the_agencies(signed_in, routed, role,  # noqa: F811
                                                       areas):
    page = signed_in(role, areas).get("/app/rujukan")
    assert page.status_code == 403
    assert "Budi" not in page.get_data(as_text=True)


def test_the_menu_offers_the_board_to_agencies_only(officer, signed_in):  # noqa: F811
    menu = officer.get("/app/rujukan").get_data(as_text=True).split("</nav>")[0]
    assert 'href="/app/rujukan" aria-current="page"' in menu and 'href="/app/kla"' not in menu
    worker = signed_in(Role.CASEWORKER, [BALIKPAPAN])
    html = worker.get("/app/kla").get_data(as_text=True)
    assert 'href="/app/kla"' in html and 'href="/app/rujukan"' not in html


def test_a_column_is_paged_by_its_key(officer, routed, client, monkeypatch):
    from api.web import board
    worker = routed["worker"]
    second = client.post("/api/v1/cases", json=child_report(source="hotline"),
                         headers=worker.headers).json
    url = f"/api/v1/cases/{second['id']}"
    assert client.post(f"{url}/triage", json={"risk_level": "low"},
                       headers=_if_match(client, worker, url)).status_code == 200
    assert client.post(f"{url}/route", headers=_if_match(client, worker, url)).status_code == 200
    monkeypatch.setattr(board, "COLUMN_SIZE", 1)
    html = officer.get("/app/rujukan").get_data(as_text=True)
    assert html.count('class="card referral') == 1
    more = re.search(r'href="(/app/rujukan\?pending=[^"#]+)', html)
    following = officer.get(html_text.unescape(more.group(1)))
    assert following.status_code == 200
    shown = following.get_data(as_text=True)
    assert shown.count('class="card referral') == 1
    assert second["reference"] in shown + html and routed["case"]["reference"] in shown + html
    assert 'pending=' not in shown.split('id="col-accepted"')[0].split('id="col-pending"')[1]
    # a cursor not made for this list starts the column again
    again = officer.get("/app/rujukan?pending=bm90LWEta2V5").get_data(as_text=True)
    assert again.count('class="card referral') == 1


# ---------- in Chromium, on the served app ----------

def _card_of(page, reference):
    return page.locator("li.referral", has_text=reference)


def test_in_the_browser_the_officer_accepts_and_completes(open_page, server):
    case, referral = routed_case(server, child_name="Wulan Papan")
    page = open_page("demo_agency_officer")
    page.goto("/app/rujukan")
    card = _card_of(page, case["reference"])
    assert "Menunggu" in card.inner_text() and "Wulan Papan" in card.inner_text()
    card.get_by_role("button", name="Terima").click()
    page.wait_for_load_state()
    assert f"Rujukan {case['reference']} diterima." in page.inner_text("main")
    card = page.locator("#col-accepted ~ ul li.referral", has_text=case["reference"])
    card.get_by_label("Hasil layanan").fill("Keluarga didaftarkan PKH.")
    card.get_by_role("button", name="Selesaikan").click()
    page.wait_for_load_state()
    assert f"Rujukan {case['reference']} selesai." in page.inner_text("main")
    assert serious_violations(page) == []
    answer = requests.get(f"{server['base']}/referrals/{referral['id']}", timeout=10,
                          headers=bearer(server["tokens"]["demo_caseworker"])).json()
    assert answer["status"] == "completed" and answer["outcome"] == "Keluarga didaftarkan PKH."


def test_in_the_browser_the_officer_declines_with_a_reason(open_page, server):
    case, referral = routed_case(server, child_name="Dewi Tolak")
    page = open_page("demo_agency_officer")
    page.goto("/app/rujukan")
    card = _card_of(page, case["reference"])
    card.get_by_label("Alasan penolakan").fill("Keluarga sudah menerima bantuan.")
    card.get_by_role("button", name="Tolak").click()
    page.wait_for_load_state()
    assert f"Rujukan {case['reference']} ditolak." in page.inner_text("main")
    answer = requests.get(f"{server['base']}/referrals/{referral['id']}", timeout=10,
                          headers=bearer(server["tokens"]["demo_caseworker"])).json()
    assert answer["status"] == "declined" and answer["reason"] == "Keluarga sudah menerima bantuan."


def test_in_the_browser_a_stale_referral_shows_the_changed_message(open_page, server):
    case, referral = routed_case(server, child_name="Sari Basi")
    page = open_page("demo_agency_officer")
    page.goto("/app/rujukan")  # the board as opened
    url = f"{server['base']}/referrals/{referral['id']}"
    officer = bearer(server["tokens"]["demo_agency_officer"])
    etag = requests.get(url, headers=officer, timeout=10).headers["ETag"]
    assert requests.post(f"{url}/transitions", json={"to": "accepted"}, timeout=10,
                         headers={**officer, "If-Match": etag}).status_code == 200
    card = _card_of(page, case["reference"])
    card.get_by_label("Alasan penolakan").fill("Bukan wilayah kami.")
    card.get_by_role("button", name="Tolak").click()
    page.wait_for_load_state()
    message = page.locator(".changed")
    assert "sudah berubah sejak Anda membukanya" in message.inner_text()
    assert "Diterima" in message.inner_text()
    assert serious_violations(page) == []
    assert requests.get(url, headers=officer, timeout=10).json()["status"] == "accepted"


def test_in_the_browser_the_board_is_refused_to_a_reporter(open_page):
    page = open_page("demo_rt_head")
    assert page.goto("/app/rujukan").status == 403
    assert "Peran Anda tidak dapat membuka halaman ini." in page.inner_text("main")
