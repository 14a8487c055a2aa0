"""A served Lindung (gunicorn, demo data) and Debian's Chromium driven by Playwright, at a
cheap phone's 360 × 640 screen."""

import re
from pathlib import Path

import pytest
import requests
from playwright.sync_api import sync_playwright

from tests.servers import bearer, running_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PHONE = {"width": 360, "height": 640}
VILLAGE_OF_RT_HEAD = "6471011001"  # Manggar (api/demo.py)
VILLAGE_OF_CADRE = "6471011002"  # Lamaru


@pytest.fixture(scope="package")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("web"), "lindung_web", workers=2) as served:
        served["origin"] = served["base"].removesuffix("/api/v1")
        yield served


@pytest.fixture(scope="package")
def browser(server):  # closed before the server stops, so no connection keeps it waiting
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def session_of(server, browser, tmp_path_factory):
    """username → the storage state (cookies) of a browser that logged in through the form,
    once per user: the login limits allow 5 tries a minute per account."""
    states: dict[str, Path] = {}
    directory = tmp_path_factory.mktemp("sessions")

    def state(username: str) -> Path:
        if username not in states:
            context = browser.new_context(viewport=PHONE, base_url=server["origin"])
            log_in(context.new_page(), server, username)
            states[username] = directory / f"{username}.json"
            context.storage_state(path=states[username])
            context.close()
        return states[username]

    return state


@pytest.fixture
def open_page(browser, server, session_of):
    """open_page(username=None, **context options) → a new page in a context of its own,
    signed in as USERNAME when given."""
    contexts = []

    def open_(username: str | None = None, **options):
        state = session_of(username) if username else None
        context = browser.new_context(viewport=PHONE, base_url=server["origin"],
                                      storage_state=state, **options)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def log_in(page, server, username: str, password: str | None = None):
    page.goto("/app/masuk")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password or server["passwords"][username])
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_load_state()


def fill_report(page, *, child_name: str, birth_date: str = "2017-04-02"):
    """A violence report as an RT head fills it in."""
    page.get_by_label("Kekerasan terhadap anak").check()
    page.get_by_label("Fisik", exact=True).check()
    page.get_by_label("Tempat kejadian").select_option("household")
    page.get_by_label("Apa yang terjadi").fill("Anak terlihat memar di lengan.")
    page.get_by_label("Kelurahan").select_option(VILLAGE_OF_RT_HEAD)
    page.get_by_label("RT", exact=True).fill("4")
    page.get_by_label("RW", exact=True).fill("2")
    page.get_by_label("Nama anak").fill(child_name)
    page.get_by_label("Laki-laki").check()
    page.get_by_label("Tanggal lahir").fill(birth_date)
    page.get_by_label("Orang tua menganggur").check()


def csrf_token_of(html: str) -> str:
    """The CSRF token a page of the web app carries (form field or meta tag)."""
    return re.search(r'name="csrf[-_]token" (?:value|content)="([^"]+)"', html).group(1)


def own_cases(server, username: str) -> list[dict]:
    """The reporter's cases as the API lists them (reporter view)."""
    answer = requests.get(f"{server['base']}/cases", params={"page_size": 100},
                          headers=bearer(server["tokens"][username]), timeout=10)
    answer.raise_for_status()
    return answer.json()


def wait_for_service_worker(page) -> None:
    """Until the service worker has kept the app shell and controls the page."""
    page.evaluate("""async () => {
        await navigator.serviceWorker.ready;
        if (!navigator.serviceWorker.controller) {
            await new Promise(resolve => navigator.serviceWorker.addEventListener(
                "controllerchange", resolve, {once: true}));
        }
    }""")
