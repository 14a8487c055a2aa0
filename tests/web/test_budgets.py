"""The report page on a cheap phone over a weak connection: at most 150 KB on the first
load, usable within 3 s on an emulated slow 3G link (400 kbit/s, 400 ms round trips)."""

import time

MAX_FIRST_LOAD_BYTES = 150 * 1024
MAX_SECONDS_TO_USABLE = 3.0
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400 * 1000 / 8,
           "uploadThroughput": 400 * 1000 / 8}
# the form is usable once the script has given it its Idempotency-Key
USABLE = "form[data-queue][data-key] button[type=submit]"


def _transfers(page) -> dict:
    """requestId → bytes received on the wire (headers and body), as Chromium counts them."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    received: dict[str, float] = {}
    cdp.on("Network.loadingFinished",
           lambda event: received.__setitem__(event["requestId"], event["encodedDataLength"]))
    return cdp, received


def test_report_page_first_load_is_at_most_150_kb(open_page):
    page = open_page("demo_rt_head")
    _, received = _transfers(page)
    page.goto("/app/lapor", wait_until="networkidle")
    page.wait_for_selector(USABLE)
    assert len(received) >= 3  # the page, its style and its script were counted
    assert sum(received.values()) <= MAX_FIRST_LOAD_BYTES


def test_report_page_is_usable_within_3_seconds_on_slow_3g(open_page):
    page = open_page("demo_rt_head")
    cdp, _ = _transfers(page)
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    started = time.monotonic()
    page.goto("/app/lapor", wait_until="commit")
    page.wait_for_selector(USABLE, state="visible")
    elapsed = time.monotonic() - started
    assert elapsed <= MAX_SECONDS_TO_USABLE, f"usable after {elapsed:.2f} s"
