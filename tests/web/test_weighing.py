"""A posyandu cadre records a weighing and reads the result in words."""

from playwright.sync_api import expect

from tests.web.conftest import VILLAGE_OF_CADRE

CADRE = "demo_posyandu_cadre"


def test_cadre_weighing_of_the_readme_example_shows_sangat_pendek(open_page):
    page = open_page(CADRE)
    page.goto("/app/timbang")
    page.get_by_label("Nama anak").fill("Putri")
    page.get_by_label("Perempuan").check()
    page.get_by_label("Tanggal lahir").fill("2025-11-20")
    page.get_by_label("Kelurahan").select_option(VILLAGE_OF_CADRE)
    page.get_by_label("Tanggal penimbangan").fill("2026-11-20")
    page.get_by_label("Berat badan (kg)").fill("7,0")  # the decimal comma people write
    page.get_by_label("Panjang / tinggi badan (cm)").fill("64")
    page.get_by_label("Telentang").check()
    page.get_by_role("button", name="Simpan penimbangan").click()

    result = page.locator("#hasil")
    expect(result).to_contain_text("Panjang / tinggi badan menurut umur")
    expect(result).to_contain_text("Sangat pendek")
    expect(result).to_contain_text("Kasus risiko stunting dibuka untuk anak ini")
    expect(page.get_by_label("Nama anak")).to_have_value("")


def test_weighing_outside_the_age_range_is_refused_in_indonesian(open_page):
    page = open_page(CADRE)
    page.goto("/app/timbang")
    page.get_by_label("Nama anak").fill("Bayu")
    page.get_by_label("Laki-laki").check()
    page.get_by_label("Tanggal lahir").fill("2026-01-10")
    page.get_by_label("Kelurahan").select_option(VILLAGE_OF_CADRE)
    page.get_by_label("Berat badan (kg)").fill("90")
    page.get_by_label("Panjang / tinggi badan (cm)").fill("70")
    page.get_by_label("Telentang").check()
    page.get_by_role("button", name="Simpan penimbangan").click()

    expect(page.locator("#err-weight_kg")).to_have_text(
        "Berat badan (kg) harus antara 0,5 dan 40 kg.")


def test_rt_head_gets_no_weighing_form(open_page):
    page = open_page("demo_rt_head")
    answer = page.goto("/app/timbang")
    assert answer.status == 403
    expect(page.get_by_role("heading", name="Tidak dapat dibuka")).to_be_visible()
    expect(page.get_by_role("link", name="Timbang")).to_have_count(0)
