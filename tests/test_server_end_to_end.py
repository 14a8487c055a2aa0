"""The real thing: `lindung serve` (gunicorn, several worker processes) over HTTP.

Runs on a database of its own: a fresh SQLite file, or a fresh PostgreSQL database beside
LINDUNG_TEST_DATABASE_URL's.
"""

import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import child_report
from tests.servers import LINDUNG, bearer, running_server

WORKERS = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("e2e"), "lindung_e2e",
                        workers=WORKERS) as served:
        yield served


def test_health_and_docs_over_http(server):
    health = requests.get(f"{server['base']}/health", timeout=5)
    assert health.json()["status"] == "ok"
    assert requests.get(f"{server['base']}/docs", timeout=5).status_code == 200
    assert requests.get(f"{server['base']}/openapi.json", timeout=5).json()["openapi"]


def test_user_created_on_the_command_line_can_report(server):
    created = subprocess.run(
        [LINDUNG, "users", "create", f"rt-{uuid.uuid4().hex[:6]}", "--role", "rt_head",
         "--area", "6471011001"], env=server["env"], capture_output=True, text=True, check=True)
    token = created.stdout.strip().splitlines()[-1]
    response = requests.post(f"{server['base']}/cases", json=child_report(),
                             headers=bearer(token), timeout=10)
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"id", "reference", "category", "status", "created_at",
                                    "updated_at"}


def test_concurrent_reports_get_distinct_consecutive_references(server):
    token = server["tokens"]["demo_rt_head"]

    def report(_):
        return requests.post(f"{server['base']}/cases", json=child_report(),
                             headers=bearer(token), timeout=30)

    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(report, range(24)))
    assert [r.status_code for r in responses] == [201] * 24, [r.text for r in responses]
    references = [r.json()["reference"] for r in responses]
    numbers = sorted(int(ref.rsplit("-", 1)[1]) for ref in references)
    assert len(set(references)) == 24
    assert numbers == list(range(numbers[0], numbers[0] + 24))


def test_concurrent_retries_with_one_key_create_one_case(server):
    token = server["tokens"]["demo_teacher"]
    headers = {**bearer(token), "Idempotency-Key": str(uuid.uuid4())}
    body = child_report(village_code="6471011003")

    def send(_):
        return requests.post(f"{server['base']}/cases", json=body, headers=headers, timeout=30)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(send, range(8)))
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, statuses
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    replay = send(None)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] in created
    mine = requests.get(f"{server['base']}/cases", headers=bearer(token), timeout=10).json()
    assert [c["id"] for c in mine] == list(created)


def test_caseworker_corrects_over_http_with_if_match(server):
    token = server["tokens"]["demo_caseworker"]
    case = requests.post(f"{server['base']}/cases", json=child_report(source="hotline"),
                         headers=bearer(token), timeout=10).json()
    url = f"{server['base']}/cases/{case['id']}"
    etag = requests.get(url, headers=bearer(token), timeout=10).headers["ETag"]
    assert requests.patch(url, json={"rt": "3"}, headers=bearer(token),
                          timeout=10).status_code == 428
    ok = requests.patch(url, json={"rt": "3"}, headers={**bearer(token), "If-Match": etag},
                        timeout=10)
    assert ok.status_code == 200 and ok.json()["rt"] == "3"
    stale = requests.patch(url, json={"rt": "4"}, headers={**bearer(token), "If-Match": etag},
                           timeout=10)
    assert stale.status_code == 412


def test_concurrent_routing_creates_each_referral_once(server):
    token = server["tokens"]["demo_caseworker"]
    base = server["base"]
    case = requests.post(f"{base}/cases", json=child_report(source="hotline"),
                         headers=bearer(token), timeout=10).json()
    url = f"{base}/cases/{case['id']}"
    etag = requests.get(url, headers=bearer(token), timeout=10).headers["ETag"]
    triaged = requests.post(f"{url}/triage", json={"risk_level": "high"},
                            headers={**bearer(token), "If-Match": etag}, timeout=10)
    assert triaged.status_code == 200
    etag = triaged.headers["ETag"]

    def route(_):
        return requests.post(f"{url}/route", headers={**bearer(token), "If-Match": etag},
                             timeout=30)

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(r.status_code for r in pool.map(route, range(6)))
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 409, 412}
    referrals = requests.get(f"{base}/referrals", params={"case_id": case["id"]},
                             headers=bearer(token), timeout=10).json()
    assert sorted(r["agency"] for r in referrals) == sorted(
        ["UPTD_PPA", "DINKES", "DINSOS", "DISKOP_UMKM", "DISDIK"])


def test_agencies_acting_at_once_on_one_case_all_succeed(server):
    worker = server["tokens"]["demo_caseworker"]
    base = server["base"]
    env = server["env"]
    agencies = ["UPTD_PPA", "DINKES", "DINSOS", "DISKOP_UMKM", "DISDIK"]
    tokens = {}
    for code in agencies:
        created = subprocess.run(
            [LINDUNG, "users", "create", f"{code.lower()}-{uuid.uuid4().hex[:6]}", "--role",
             "agency_system", "--agency", code], env=env, capture_output=True, text=True,
            check=True)
        tokens[code] = created.stdout.strip().splitlines()[-1]
    case = requests.post(f"{base}/cases", json=child_report(source="hotline"),
                         headers=bearer(worker), timeout=10).json()
    url = f"{base}/cases/{case['id']}"
    etag = requests.get(url, headers=bearer(worker), timeout=10).headers["ETag"]
    etag = requests.post(f"{url}/triage", json={"risk_level": "high"},
                         headers={**bearer(worker), "If-Match": etag}, timeout=10
                         ).headers["ETag"]
    assert requests.post(f"{url}/route", headers={**bearer(worker), "If-Match": etag},
                         timeout=10).status_code == 200

    def accept(code):
        headers = bearer(tokens[code])
        mine = requests.get(f"{base}/referrals", params={"case_id": case["id"]},
                            headers=headers, timeout=10).json()
        referral_url = f"{base}/referrals/{mine[0]['id']}"
        tag = requests.get(referral_url, headers=headers, timeout=10).headers["ETag"]
        answer = requests.post(f"{referral_url}/transitions", json={"to": "accepted"},
                               headers={**headers, "If-Match": tag}, timeout=30)
        return answer.status_code if answer.ok else answer.text

    with ThreadPoolExecutor(max_workers=5) as pool:
        assert list(pool.map(accept, agencies)) == [200] * 5
    assert requests.get(url, headers=bearer(worker), timeout=10).json()["status"] == "in_service"


def test_audit_chain_stays_one_line_under_concurrent_requests(server):
    token = server["tokens"]["demo_caseworker"]

    def read(_):
        return requests.get(f"{server['base']}/cases", headers=bearer(token), timeout=30)

    with ThreadPoolExecutor(max_workers=12) as pool:
        assert {r.status_code for r in pool.map(read, range(48))} == {200}
    verified = subprocess.run([LINDUNG, "audit", "verify"], env=server["env"],
                              capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    assert "audit chain intact" in verified.stdout
