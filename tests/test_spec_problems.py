"""Problem details say what to do next: re-read for the current ETag and retry with it."""

import pytest

from tests.conftest import BALIKPAPAN, MANGGAR, child_report

PROBLEM = "application/problem+json"


@pytest.fixture
def case_url(client, make_user):
    reporter = make_user("rt_head", [MANGGAR])
    reported = client.post("/api/v1/cases", json=child_report(), headers=reporter.headers)
    assert reported.status_code == 201
    return f"/api/v1/cases/{reported.json['id']}"


@pytest.fixture
def worker(make_user):
    return make_user("caseworker", [BALIKPAPAN])


def _triage(client, worker, case_url, if_match=None):
    headers = dict(worker.headers)
    if if_match is not None:
        headers["If-Match"] = if_match
    return client.post(f"{case_url}/triage", json={"risk_level": "high"}, headers=headers)


def test_stale_etag_is_412_telling_to_read_again_and_retry(client, worker, case_url):
    etag = client.get(case_url, headers=worker.headers).headers["ETag"]
    assert _triage(client, worker, case_url, etag).status_code == 200
    stale = _triage(client, worker, case_url, etag)
    assert stale.status_code == 412
    assert stale.headers["Content-Type"] == PROBLEM
    assert stale.json["detail"] == (
        "The case changed since you read it: GET it again for the current ETag, then retry "
        "with that ETag in If-Match.")


def test_missing_if_match_is_428_naming_the_header_to_send(client, worker, case_url):
    missing = _triage(client, worker, case_url)
    assert missing.status_code == 428
    assert missing.json["detail"].startswith("This update needs If-Match: send the ETag of "
                                             "the case as you last read it")


def test_if_match_star_is_refused_saying_a_version_is_needed(client, worker, case_url):
    star = _triage(client, worker, case_url, "*")
    assert star.status_code == 428
    assert star.json["detail"].startswith("If-Match: * names no version: send the ETag of "
                                          "the case")
    # nothing was changed by it
    assert client.get(case_url, headers=worker.headers).json["status"] == "reported"


def test_stale_referral_etag_names_the_referral(client, worker, case_url, make_user):
    etag = client.get(case_url, headers=worker.headers).headers["ETag"]
    etag = _triage(client, worker, case_url, etag).headers["ETag"]
    assert client.post(f"{case_url}/route",
                       headers={**worker.headers, "If-Match": etag}).status_code == 200
    officer = make_user("agency_officer", agency="DINSOS")
    (referral,) = client.get("/api/v1/referrals", headers=officer.headers).json
    stale = client.post(f"/api/v1/referrals/{referral['id']}/transitions",
                        json={"to": "accepted"},
                        headers={**officer.headers, "If-Match": '"not-the-etag"'})
    assert stale.status_code == 412
    assert stale.json["detail"].startswith("The referral changed since you read it")


def test_http_refusals_say_what_to_do(client, worker):
    unknown = client.get("/api/v1/no-such-thing")
    assert unknown.json["detail"].endswith("(/api/v1/docs).")
    wrong_method = client.delete("/api/v1/health")
    assert "the Allow header lists the methods it does" in wrong_method.json["detail"]
    too_large = client.post("/api/v1/cases", data=b"{" + b" " * (1024 * 1024 + 1) + b"}",
                            content_type="application/json", headers=worker.headers)
    assert too_large.status_code == 413
    assert too_large.json["type"] == "urn:lindung:problem:body-too-large"
    assert too_large.json["detail"].endswith("send a smaller one.")


def test_precondition_problems_have_their_own_types(client, worker, case_url):
    assert _triage(client, worker, case_url).json["type"] == (
        "urn:lindung:problem:precondition-required")
    assert _triage(client, worker, case_url, '"old"').json["type"] == (
        "urn:lindung:problem:precondition-failed")
