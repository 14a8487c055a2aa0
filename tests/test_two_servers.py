"""Several API processes on one database: two `lindung serve` servers (gunicorn, workers of
their own) share one database, and requests interleave between them as a load balancer would
send them. Nothing one server knows is missing at the other (DESIGN §2: stateless processes,
one shared PostgreSQL).
"""

import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import child_report
from tests.databases import database_of_its_own
from tests.servers import LINDUNG, bearer, running_server


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Servers A and B on one database (loaded with the demo data by each: it is idempotent)."""
    directory = tmp_path_factory.mktemp("two-servers")
    with database_of_its_own(directory, "lindung_two") as url:
        (directory / "a").mkdir()
        (directory / "b").mkdir()
        with running_server(directory / "a", "a", workers=2, database_url=url) as a, \
                running_server(directory / "b", "b", workers=2, database_url=url) as b:
            assert a["tokens"] == b["tokens"]
            yield a, b


def _headers(server, username: str, **extra) -> dict:
    return {**bearer(server["tokens"][username]), **extra}


def test_case_reported_on_one_server_is_triaged_and_routed_on_the_other(servers):
    a, b = servers
    report = requests.post(f"{a['base']}/cases", json=child_report(),
                           headers=_headers(a, "demo_rt_head"), timeout=30)
    assert report.status_code == 201
    case_id = report.json()["id"]

    read = requests.get(f"{b['base']}/cases/{case_id}",
                        headers=_headers(b, "demo_caseworker"), timeout=30)
    assert read.status_code == 200
    triaged = requests.post(f"{a['base']}/cases/{case_id}/triage", json={"risk_level": "high"},
                            headers=_headers(a, "demo_caseworker", **{"If-Match":
                                                                       read.headers["ETag"]}),
                            timeout=30)
    assert triaged.status_code == 200
    # B's ETag from before the triage is stale on either server
    stale = requests.post(f"{b['base']}/cases/{case_id}/triage", json={"risk_level": "low"},
                          headers=_headers(b, "demo_caseworker", **{"If-Match":
                                                                     read.headers["ETag"]}),
                          timeout=30)
    assert stale.status_code == 412
    assert requests.get(f"{b['base']}/cases/{case_id}", headers=_headers(b, "demo_caseworker"),
                        timeout=30).headers["ETag"] == triaged.headers["ETag"]

    def route(server):
        return requests.post(f"{server['base']}/cases/{case_id}/route",
                             headers=_headers(server, "demo_caseworker", **{
                                 "If-Match": triaged.headers["ETag"]}), timeout=60)

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(r.status_code for r in pool.map(route, [a, b, a, b, a, b]))
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 409, 412}
    referrals = requests.get(f"{a['base']}/referrals", params={"case_id": case_id},
                             headers=_headers(a, "demo_caseworker"), timeout=30).json()
    assert len(referrals) == len({r["agency"] for r in referrals}) > 0


def test_idempotent_replay_works_across_servers(servers):
    a, b = servers
    body = child_report(village_code="6471011003")
    key = str(uuid.uuid4())
    first = requests.post(f"{a['base']}/cases", json=body,
                          headers=_headers(a, "demo_teacher", **{"Idempotency-Key": key}),
                          timeout=30)
    replay = requests.post(f"{b['base']}/cases", json=body,
                           headers=_headers(b, "demo_teacher", **{"Idempotency-Key": key}),
                           timeout=30)
    assert first.status_code == replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    changed = requests.post(f"{b['base']}/cases", json={**body, "rt": "9"},
                            headers=_headers(b, "demo_teacher", **{"Idempotency-Key": key}),
                            timeout=30)
    assert changed.status_code == 422


def test_concurrent_reports_on_both_servers_get_distinct_consecutive_references(servers):
    def report(server):
        return requests.post(f"{server['base']}/cases", json=child_report(),
                             headers=_headers(server, "demo_rt_head"), timeout=60)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(report, list(servers) * 8))
    assert [r.status_code for r in responses] == [201] * 16, [r.text for r in responses]
    numbers = sorted(int(r.json()["reference"].rsplit("-", 1)[1]) for r in responses)
    assert numbers == list(range(numbers[0], numbers[0] + 16))


def test_token_revoked_through_one_server_is_refused_by_the_other(servers):
    a, b = servers
    admin = _headers(a, "demo_admin")
    users = requests.get(f"{a['base']}/users", headers=admin, timeout=30).json()
    system = next(user for user in users if user["username"] == "demo_agency_system")
    issued = requests.post(f"{a['base']}/users/{system['id']}/tokens", json={},
                           headers=admin, timeout=30)
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert requests.get(f"{b['base']}/me", headers=bearer(token), timeout=30).status_code == 200
    revoked = requests.delete(f"{b['base']}/tokens/{issued.json()['id']}",
                              headers=_headers(b, "demo_admin"), timeout=30)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert requests.get(f"{a['base']}/me", headers=bearer(token), timeout=30).status_code == 401


def test_audit_chain_written_by_both_servers_is_intact(servers):
    a, _b = servers
    verdict = subprocess.run([LINDUNG, "audit", "verify"], env=a["env"], capture_output=True,
                             text=True, timeout=120)
    assert verdict.returncode == 0, verdict.stderr
    assert "intact" in verdict.stdout
