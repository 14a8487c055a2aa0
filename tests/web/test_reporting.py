"""An RT head reports a case from a phone: online, offline, with a mistake."""

import re

from playwright.sync_api import expect

from tests.web.conftest import fill_report, own_cases, wait_for_service_worker

RT_HEAD = "demo_rt_head"
REFERENCE = re.compile(r"KS-6471-\d{4}-\d{6}")


def test_rt_head_reports_a_case_in_indonesian_and_sees_the_reference(open_page, server):
    before = len(own_cases(server, RT_HEAD))
    page = open_page(RT_HEAD)
    page.goto("/app/lapor")
    expect(page.get_by_role("heading", name="Laporkan anak")).to_be_visible()
    fill_report(page, child_name="Andi Saputra")
    page.get_by_role("button", name="Kirim laporan").click()

    confirmation = page.locator("#hasil")
    expect(confirmation).to_contain_text("Laporan terkirim. Nomor laporan: KS-6471-")
    reference = REFERENCE.search(confirmation.inner_text()).group()
    cases = own_cases(server, RT_HEAD)
    assert len(cases) == before + 1
    assert reference in {case["reference"] for case in cases}
    # the form is emptied: the child's name is no longer on the page
    expect(page.get_by_label("Nama anak")).to_have_value("")


def test_reports_made_without_signal_are_each_sent_once_when_the_signal_returns(
        open_page, server):
    before = {case["reference"] for case in own_cases(server, RT_HEAD)}
    page = open_page(RT_HEAD)
    page.goto("/app/lapor")
    wait_for_service_worker(page)

    page.context.set_offline(True)
    page.reload()  # the app shell opens from the device, without a connection
    expect(page.get_by_role("heading", name="Laporkan anak")).to_be_visible()
    fill_report(page, child_name="Rina Offline")
    page.get_by_role("button", name="Kirim laporan").click()
    expect(page.locator("#antrean")).to_contain_text("1 laporan menunggu sinyal")
    fill_report(page, child_name="Rudi Offline")
    page.get_by_role("button", name="Kirim laporan").click()
    expect(page.locator("#antrean")).to_contain_text("2 laporan menunggu sinyal")
    assert "Rina+Offline" in page.evaluate("localStorage.getItem('lindung.queue')")
    assert {case["reference"] for case in own_cases(server, RT_HEAD)} == before

    page.context.set_offline(False)
    expect(page.locator("#antrean")).to_have_text("Laporan yang menunggu sudah terkirim.")
    expect(page.locator("#hasil")).to_contain_text("Nomor laporan: KS-6471-")
    after = {case["reference"] for case in own_cases(server, RT_HEAD)}
    assert len(after - before) == 2 and before <= after  # one case per report, no more
    # acknowledged: nothing about the children stays on the device
    assert page.evaluate("localStorage.getItem('lindung.queue')") is None
    assert "Offline" not in page.content()


def test_a_queued_report_sent_twice_is_filed_once(open_page, server):
    before = len(own_cases(server, RT_HEAD))
    page = open_page(RT_HEAD)
    page.goto("/app/lapor")
    answers = page.evaluate("""async () => {
        const body = new URLSearchParams({
            "category": "stunting_risk", "village_code": "6471011001",
            "child.name": "Sari Dua Kali", "child.sex": "female", "child.age_years": "2"});
        const send = () => fetch("/app/lapor", {method: "POST", body, headers: {
            "Accept": "application/json", "Idempotency-Key": "queued-once-1",
            "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content}});
        const answers = [];
        for (const response of [await send(), await send()]) {
            answers.push({status: response.status, replayed:
                response.headers.get("Idempotent-Replayed"), body: await response.json()});
        }
        return answers;
    }""")
    assert [a["status"] for a in answers] == [201, 201]
    assert answers[0]["body"]["reference"] == answers[1]["body"]["reference"]
    assert answers[1]["replayed"] == "true"
    assert len(own_cases(server, RT_HEAD)) == before + 1


def test_a_bad_field_shows_the_indonesian_error_next_to_it(open_page, server):
    before = len(own_cases(server, RT_HEAD))
    page = open_page(RT_HEAD)
    page.goto("/app/lapor")
    fill_report(page, child_name="Dewi Salah Tanggal", birth_date="2099-01-01")
    page.get_by_role("button", name="Kirim laporan").click()

    error = page.locator("#err-child\\.birth_date")
    expect(error).to_have_text("Tanggal lahir tidak boleh di masa depan.")
    expect(page.get_by_label("Tanggal lahir")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Nama anak")).to_have_value("Dewi Salah Tanggal")
    assert len(own_cases(server, RT_HEAD)) == before  # nothing stored
    assert page.evaluate("localStorage.getItem('lindung.queue')") is None


def test_the_form_works_without_javascript(open_page, server):
    before = len(own_cases(server, RT_HEAD))
    page = open_page(RT_HEAD, java_script_enabled=False)
    page.goto("/app/lapor")
    fill_report(page, child_name="Tono Tanpa Skrip")
    page.get_by_role("button", name="Kirim laporan").click()

    expect(page.get_by_role("heading", name="Laporan terkirim")).to_be_visible()
    reference = page.locator(".reference").inner_text()
    assert REFERENCE.fullmatch(reference)
    assert reference in {case["reference"] for case in own_cases(server, RT_HEAD)}
    assert len(own_cases(server, RT_HEAD)) == before + 1


def test_without_javascript_a_bad_field_is_named_in_indonesian(open_page, server):
    page = open_page(RT_HEAD, java_script_enabled=False)
    page.goto("/app/lapor")
    page.get_by_label("Kekerasan terhadap anak").check()
    page.get_by_label("Kelurahan").select_option("6471011001")
    page.get_by_role("button", name="Kirim laporan").click()

    expect(page.locator("#err-child\\.name")).to_have_text("Nama anak wajib diisi.")
    expect(page.locator("#err-violence_types")).to_have_text(
        "Pilih paling sedikit satu Bentuk kekerasan.")


def test_my_reports_show_the_reporter_view_only(open_page, server):
    page = open_page(RT_HEAD)
    page.goto("/app/laporan-saya")
    references = {case["reference"] for case in own_cases(server, RT_HEAD)}
    shown = set(page.locator(".cases .reference").all_inner_texts())
    assert shown == references
    expect(page.locator(".cases")).to_contain_text("Kekerasan terhadap anak")
    expect(page.locator(".cases")).to_contain_text("Dilaporkan")
    # a demo case's child and narrative are never part of the reporter view
    assert "Contoh Anak Satu" not in page.content()
    assert "memar" not in page.content()
