"""The access matrix, tested whole: every operation of the spec × every role, on objects in and
out of the caller's scope, against the policy table (api/auth/policy.py POLICY).

A role the policy does not name gets 403; a role it names succeeds on its own objects, gets 404
for the objects of other areas, other reporters or other agencies, and never sees a field
outside its view (tests/access/views.py). A new operation without a row here fails
test_every_operation_of_the_spec_has_a_row.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from api.auth.policy import CASE_STAFF, MACHINE_ROLES, POLICY, Operation, Scope
from api.vocabularies.codes import Role
from tests.access import views
from tests.access.views import View, within
from tests.access.world import (
    BARU_ILIR,
    DUPLICATE_OF,
    OTHER_AGENCY,
    OWN_AGENCY,
    SEARCHES,
    World,
    weighing,
)
from tests.conftest import (
    BALIKPAPAN,
    BALIKPAPAN_TIMUR,
    BANJARMASIN,
    MANGGAR,
    MANTUIL,
    child_report,
)

SPEC = json.loads((Path(__file__).parents[2] / "openapi" / "openapi.json").read_text())
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    json: object = None
    query: dict = field(default_factory=dict)
    if_match: str | None = None  # the resource whose ETag the call sends
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """How to call one operation on a subject (an id, or None), and what a success shows."""

    call: Callable[[str | None, Role], Call]
    view: Callable[[Role], View]
    subject: str | None = None  # the World attribute giving the caller's own subject
    status: int = 200
    lists: str | None = None  # the items are cases or referrals: only those in scope
    outside: Callable[[], Call] | None = None  # the call for an area not the caller's: 403
    hidden: int = 404  # the answer on a subject out of scope, as on one that does not exist
    needs: tuple[str, ...] = ()  # World objects that must exist before the call
    check: Callable[[Role, object], None] | None = None  # on a success, beyond the view


def shows(view: View) -> Callable[[Role], View]:
    return lambda role: view


def case_call(suffix: str = "", method: str = "get", body=None, etag=False):
    def call(case_id, role):
        url = f"/api/v1/cases/{case_id}"
        return Call(method, url + suffix, body, if_match=url if etag else None)
    return call


def _referral_move(referral_id, role):
    # agencies act on a referral; the case side may only cancel it
    move = ({"to": "cancelled", "reason": "Served by the school instead."}
            if role in CASE_STAFF else {"to": "accepted", "external_reference": "DS-1"})
    url = f"/api/v1/referrals/{referral_id}"
    return Call("post", f"{url}/transitions", move, if_match=url)


def _set_aside_as_not_duplicate(case_id, role):
    # out-of-scope cases have no pair of the caller's: any id, the case itself answers 404
    other = DUPLICATE_OF.get(case_id, str(uuid.uuid4()))
    url = f"/api/v1/cases/{case_id}"
    return Call("post", f"{url}/duplicates", {"other_case_id": other,
                                              "decision": "not_duplicate"}, if_match=url)


def _one_case_counted(role, figures):
    if role is Role.ANALYST:
        # ended months only, in kecamatan rows: today's case is in no release yet, and one
        # case is published as 0 anyway (docs/statistics-disclosure.md)
        assert "kelurahan" not in figures and figures["totals"]["violence_cases"] == 0
        return
    [manggar] = [row for row in figures["kelurahan"] if row["code"] == MANGGAR]
    assert (manggar["violence_cases"], figures["totals"]["violence_cases"]) == (1, 1)


def _rows_as_csv(role, text):
    # analysts: kecamatan rows of ended months only; others: the kelurahan rows
    header, *rows = text.splitlines()
    assert header.count(",") >= 3
    assert any(row.startswith(MANGGAR) for row in rows) is (role is not Role.ANALYST)


def _search_terms_for_the_office_only(role, events):
    # the supervisor sees what was searched for in their areas; the admin only that a search
    # was made, anywhere
    searches = [e for e in events if e["action"] == "case.list" and e["details"]]
    if role is Role.ADMIN:
        assert sorted(e["details"]["q"] for e in searches) == ["withheld", "withheld"]
        assert not any(name in json.dumps(events) for name in SEARCHES.values())
    else:
        assert [e["details"]["q"] for e in searches] == [SEARCHES[BALIKPAPAN_TIMUR]]


NEW_USER = {"username": "rt.manggar.7", "role": "rt_head", "area_codes": [MANGGAR]}
NEW_AGENCY = {"code": "DP3AKB", "name": "Dinas P3AKB", "services": ["family_support"]}
CORRECTION = {"address": "Jl. Mulawarman Gg. Damai No. 4"}
CLOSE = {"to": "closed", "reason": "unfounded"}
DISDIK_REFERRAL = {"agency": "DISDIK", "service": "school_support"}
ONE_RULE = {"id": "violence-protection", "description": "Every case of violence",
            "when": {"category": "violence"}, "agency": "UPTD_PPA",
            "service": "psychosocial_support", "due_in_hours": 24}

MATRIX: dict[tuple[str, str], Row] = {
    ("GET", "/api/v1/me"): Row(lambda _, role: Call("get", "/api/v1/me"), shows(views.ME)),
    ("GET", "/api/v1/regions"): Row(
        lambda _, role: Call("get", "/api/v1/regions", query={"parent": "647101"}),
        shows(views.REGION)),
    ("GET", "/api/v1/agencies"): Row(lambda _, role: Call("get", "/api/v1/agencies"),
                                     shows(views.AGENCY)),
    ("GET", "/api/v1/agencies/{code}"): Row(
        lambda code, role: Call("get", f"/api/v1/agencies/{code}"), shows(views.AGENCY),
        subject="agency"),
    ("POST", "/api/v1/agencies"): Row(lambda _, role: Call("post", "/api/v1/agencies",
                                                           NEW_AGENCY),
                                      shows(views.AGENCY), status=201),
    ("PATCH", "/api/v1/agencies/{code}"): Row(
        lambda code, role: Call("patch", f"/api/v1/agencies/{code}", {"name": "Dinas Sosial"}),
        shows(views.AGENCY_CHANGED), subject="agency"),
    # an agency's own deliveries; another agency's answer 404 as unknown ones do
    ("GET", "/api/v1/agencies/{code}/deliveries"): Row(
        lambda code, role: Call("get", f"/api/v1/agencies/{code}/deliveries"),
        shows(views.DELIVERY), subject="agency", needs=("webhooks",)),
    ("POST", "/api/v1/agencies/{code}/deliveries/{delivery_id}/retry"): Row(
        lambda delivery_id, role: Call(
            "post", f"/api/v1/agencies/{OWN_AGENCY}/deliveries/{delivery_id}/retry"),
        shows(views.DELIVERY), subject="delivery"),
    ("POST", "/api/v1/agencies/{code}/webhook-test"): Row(
        lambda code, role: Call("post", f"/api/v1/agencies/{code}/webhook-test"),
        shows(views.DELIVERY), subject="agency", status=202, needs=("webhooks",)),
    ("GET", "/api/v1/cases"): Row(lambda _, role: Call("get", "/api/v1/cases"),
                                  views.case_view, lists="case"),
    ("POST", "/api/v1/cases"): Row(
        lambda _, role: Call("post", "/api/v1/cases", child_report(
            **({"source": "hotline"} if role in CASE_STAFF else {}))),
        views.case_view, status=201,
        outside=lambda: Call("post", "/api/v1/cases", child_report(village_code=BARU_ILIR))),
    ("GET", "/api/v1/cases/{case_id}"): Row(case_call(), views.case_view,
                                            subject="reported_case"),
    ("PATCH", "/api/v1/cases/{case_id}"): Row(case_call(method="patch", body=CORRECTION,
                                                        etag=True),
                                              views.case_view, subject="reported_case"),
    ("POST", "/api/v1/cases/{case_id}/triage"): Row(
        case_call("/triage", "post", {"risk_level": "medium"}, etag=True), views.case_view,
        subject="reported_case"),
    ("POST", "/api/v1/cases/{case_id}/transitions"): Row(
        case_call("/transitions", "post", CLOSE, etag=True), views.case_view,
        subject="triaged_case"),
    ("POST", "/api/v1/cases/{case_id}/duplicates"): Row(
        _set_aside_as_not_duplicate, views.case_view, subject="duplicated_case"),
    ("POST", "/api/v1/cases/{case_id}/route"): Row(
        case_call("/route", "post", etag=True), views.case_view, subject="triaged_case"),
    ("GET", "/api/v1/cases/{case_id}/routing-plan"): Row(
        case_call("/routing-plan"), shows(views.PLAN_ITEM), subject="triaged_case"),
    ("GET", "/api/v1/cases/{case_id}/timeline"): Row(
        case_call("/timeline"), shows(views.CASE_EVENT), subject="referred_case"),
    ("POST", "/api/v1/cases/{case_id}/referrals"): Row(
        case_call("/referrals", "post", DISDIK_REFERRAL), shows(views.REFERRAL), status=201,
        subject="triaged_case"),
    ("GET", "/api/v1/referrals"): Row(lambda _, role: Call("get", "/api/v1/referrals"),
                                      shows(views.REFERRAL), lists="referral"),
    ("GET", "/api/v1/referrals/{referral_id}"): Row(
        lambda referral_id, role: Call("get", f"/api/v1/referrals/{referral_id}"),
        shows(views.REFERRAL), subject="referral"),
    ("POST", "/api/v1/referrals/{referral_id}/transitions"): Row(
        _referral_move, shows(views.REFERRAL), subject="referral"),
    # the caller's kecamatan lies in Balikpapan: its rules are the caller's, Banjarmasin's not
    ("GET", "/api/v1/routing-rules"): Row(
        lambda _, role: Call("get", "/api/v1/routing-rules", query={"city": BALIKPAPAN}),
        shows(views.ROUTING_RULE),
        outside=lambda: Call("get", "/api/v1/routing-rules", query={"city": BANJARMASIN})),
    ("PUT", "/api/v1/routing-rules"): Row(
        lambda rules, role: Call("put", "/api/v1/routing-rules", rules,
                                 query={"city": BALIKPAPAN}),
        shows(views.ROUTING_RULE), subject="routing_rules",
        outside=lambda: Call("put", "/api/v1/routing-rules", [ONE_RULE],
                             query={"city": BANJARMASIN})),
    ("POST", "/api/v1/measurements"): Row(
        lambda child_id, role: Call("post", "/api/v1/measurements", {
            **{k: v for k, v in weighing(MANGGAR).items() if k != "child"},
            "child_id": child_id}),
        # a child named in the body that the caller may not see is a bad field, as an
        # unknown one is
        shows(views.MEASUREMENT), status=201, subject="weighed_child", hidden=422,
        outside=lambda: Call("post", "/api/v1/measurements", weighing(MANTUIL))),
    ("GET", "/api/v1/children/{child_id}"): Row(
        lambda child_id, role: Call("get", f"/api/v1/children/{child_id}"), views.child_view,
        subject="weighed_child"),
    ("GET", "/api/v1/children/{child_id}/measurements"): Row(
        lambda child_id, role: Call("get", f"/api/v1/children/{child_id}/measurements"),
        shows(views.MEASUREMENT), subject="weighed_child"),
    ("GET", "/api/v1/children/{child_id}/access-log"): Row(
        lambda child_id, role: Call("get", f"/api/v1/children/{child_id}/access-log"),
        shows(views.AUDIT_EVENT), subject="reported_child"),
    ("GET", "/api/v1/stats/kla"): Row(
        lambda _, role: Call("get", "/api/v1/stats/kla", query={"area": BALIKPAPAN_TIMUR}),
        views.kla_view, needs=("reported_case",), check=_one_case_counted,
        # the whole city is more than the caller's kecamatan
        outside=lambda: Call("get", "/api/v1/stats/kla", query={"area": BALIKPAPAN})),
    ("GET", "/api/v1/stats/kla.csv"): Row(
        lambda _, role: Call("get", "/api/v1/stats/kla.csv", query={"area": BALIKPAPAN_TIMUR}),
        shows(views.NO_CONTENT), needs=("reported_case",), check=_rows_as_csv,
        outside=lambda: Call("get", "/api/v1/stats/kla.csv", query={"area": BALIKPAPAN})),
    ("GET", "/api/v1/audit-events"): Row(lambda _, role: Call("get", "/api/v1/audit-events"),
                                         shows(views.AUDIT_EVENT), needs=("searches",),
                                         check=_search_terms_for_the_office_only),
    ("PATCH", "/api/v1/users/{user_id}"): Row(
        lambda user_id, role: Call("patch", f"/api/v1/users/{user_id}", {"language": "en"}),
        shows(views.USER), subject="user"),
    ("GET", "/api/v1/me/alerts"): Row(lambda _, role: Call("get", "/api/v1/me/alerts"),
                                      shows(views.ALERT)),
    ("GET", "/api/v1/users"): Row(lambda _, role: Call("get", "/api/v1/users"),
                                  shows(views.USER)),
    ("POST", "/api/v1/users"): Row(lambda _, role: Call("post", "/api/v1/users", NEW_USER),
                                   shows(views.USER), status=201),
    # for a machine account; a person's account is refused (test_token_holders_admins_serve)
    ("POST", "/api/v1/users/{user_id}/tokens"): Row(
        lambda user_id, role: Call("post", f"/api/v1/users/{user_id}/tokens", {}),
        shows(views.ISSUED_TOKEN), status=201, subject="machine_account"),
    ("DELETE", "/api/v1/tokens/{token_id}"): Row(
        lambda token_id, role: Call("delete", f"/api/v1/tokens/{token_id}"),
        shows(views.TOKEN), subject="token"),
    # everybody logs out of their own sessions
    ("DELETE", "/api/v1/auth/tokens/current"): Row(
        lambda _, role: Call("delete", "/api/v1/auth/tokens/current"), shows(views.NO_CONTENT),
        status=204),
    ("DELETE", "/api/v1/auth/tokens"): Row(lambda _, role: Call("delete", "/api/v1/auth/tokens"),
                                           shows(views.NO_CONTENT), status=204),
    # answered without a token
    ("GET", "/api/v1/health"): Row(lambda _, role: Call("get", "/api/v1/health"),
                                   shows(views.HEALTH)),
    ("GET", "/api/v1/health/live"): Row(lambda _, role: Call("get", "/api/v1/health/live"),
                                        shows(views.LIVENESS)),
    ("GET", "/api/v1/health/ready"): Row(lambda _, role: Call("get", "/api/v1/health/ready"),
                                         shows(views.READINESS)),
    ("GET", "/api/v1/vocabularies"): Row(lambda _, role: Call("get", "/api/v1/vocabularies"),
                                         shows(views.VOCABULARIES)),
    ("POST", "/api/v1/auth/tokens"): Row(
        lambda login, role: Call("post", "/api/v1/auth/tokens", login),
        shows(views.ISSUED_TOKEN), status=201, subject="login"),
}


def _operations():
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation.get("x-lindung-operation")


GUARDED = [(method, path, Operation(name)) for method, path, name in _operations() if name]
PUBLIC = [(method, path) for method, path, name in _operations() if not name]


def test_every_operation_of_the_spec_has_a_row():
    in_spec = {(method, path) for method, path, _ in _operations()}
    assert in_spec - set(MATRIX) == set(), "operations without a matrix row"
    assert set(MATRIX) - in_spec == set(), "rows for operations the spec does not have"


def test_every_policy_operation_is_served():
    # a policy line no endpoint uses would be a rule nobody tests; reopening a case is
    # decided inside POST /cases/{id}/transitions (tests/cases)
    served = {operation for _, _, operation in GUARDED} | {Operation.CASE_REOPEN}
    assert set(POLICY) == served


@pytest.fixture
def world_of(client, session, make_user):
    return lambda role: World(client, session, make_user, role)


def send(client, call: Call, caller=None, etag: str | None = None):
    headers = {**call.headers, **(caller.headers if caller else {})}
    if etag:
        headers["If-Match"] = etag
    return client.open(call.url, method=call.method.upper(), json=call.json,
                       query_string=call.query, headers=headers)


def subject_of(world: World, name: str | None):
    """The caller's own subject for a row: an id, or the body the row needs."""
    return None if name is None else getattr(world, name)


def out_of_scope(world: World, name: str, scope: Scope) -> list[str]:
    if scope is Scope.ANY:
        return []
    if name.endswith("_case"):
        return world.out_of_scope_cases(scope)
    if name == "referral":
        return world.out_of_scope_referrals(scope)
    if name.endswith("_child"):
        return world.out_of_scope_children(scope)
    if name == "routing_rules":
        return []  # another city's rules: the row's outside call (403, cities are public)
    if name == "agency":
        return [OTHER_AGENCY] if scope is Scope.AGENCY else []
    if name == "delivery":
        return world.out_of_scope_deliveries(scope)
    raise AssertionError(f"no out-of-scope objects for {name}")


@pytest.mark.parametrize(("method", "path", "operation"), GUARDED,
                         ids=[f"{m} {p}" for m, p, _ in GUARDED])
def test_no_token_no_access(client, method, path, operation):
    url = path.replace("{code}", OWN_AGENCY)
    for parameter in ("case_id", "referral_id", "child_id", "user_id", "token_id"):
        url = url.replace(f"{{{parameter}}}", str(uuid.uuid4()))
    url = url.replace("{delivery_id}", "1")
    for headers in ({}, {"Authorization": "Bearer lnd_not-a-token"},
                    {"Authorization": "Basic YWRtaW46YWRtaW4="}):
        response = client.open(url, method=method, headers=headers, json={})
        assert response.status_code == 401, (headers, response.json)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
@pytest.mark.parametrize(("method", "path", "operation"), GUARDED,
                         ids=[f"{m} {p}" for m, p, _ in GUARDED])
def test_each_role_on_each_operation(client, world_of, method, path, operation, role):
    row, scope = MATRIX[method, path], POLICY[operation].get(role)
    world = world_of(role)
    subject = subject_of(world, row.subject)
    call = row.call(subject, role)
    etag = world.etag(call.if_match, world.caller) if call.if_match else None

    if scope is None:
        refused = send(client, call, world.caller, etag)
        assert refused.status_code == 403, refused.json
        within(refused.json, views.PROBLEM)
        if call.if_match:  # and the object is as it was
            assert world.etag(call.if_match, world.caller) == etag
        return

    if row.subject is not None:
        for other in out_of_scope(world, row.subject, scope):
            other_call = row.call(other, role)
            other_etag = world.etag(other_call.if_match) if other_call.if_match else None
            hidden = send(client, other_call, world.caller, other_etag)
            assert hidden.status_code == row.hidden, (other, hidden.json)
            within(hidden.json, views.PROBLEM)
            if other_call.if_match:
                assert world.etag(other_call.if_match) == other_etag
            unknown = send(client, row.call(str(uuid.uuid4()), role), world.caller, other_etag)
            assert (unknown.status_code, unknown.json.get("errors")) == (
                hidden.status_code, hidden.json.get("errors")), "out of scope ≠ unknown"
    if row.outside is not None and scope is not Scope.ANY:
        assert send(client, row.outside(), world.caller).status_code == 403

    own, others = _collection_scope(world, row.lists, scope) if row.lists else (None, [])
    for name in row.needs:
        getattr(world, name)
    response = send(client, call, world.caller, etag)
    assert response.status_code == row.status, response.json
    answered_json = response.is_json and response.data
    within(response.json if answered_json else {}, row.view(role))
    if row.check:
        row.check(role, response.json if answered_json else response.get_data(as_text=True))
    if row.lists:
        listed = {item["id"] for item in response.json}
        assert own in listed
        assert listed.isdisjoint(others)


def _collection_scope(world: World, kind: str, scope: Scope):
    if kind == "case":
        return world.reported_case, world.out_of_scope_cases(scope)
    return world.referral, world.out_of_scope_referrals(scope)


@pytest.mark.parametrize(("method", "path"), PUBLIC, ids=[f"{m} {p}" for m, p in PUBLIC])
def test_public_operations_answer_without_a_token(client, world_of, method, path):
    row = MATRIX[method, path]
    call = row.call(subject_of(world_of(Role.RT_HEAD), row.subject), Role.RT_HEAD)
    response = send(client, call)
    assert response.status_code == row.status, response.json
    within(response.json, row.view(Role.RT_HEAD))


PERSONAL_SCHEMAS = {"Case", "Child", "ChildView", "Referral", "AgencyCaseView", "Measurement",
                    "CaseEvent", "PlanItem", "MeasuredChild", "HouseholdView"}


def _schemas_answered(operation: dict) -> set[str]:
    """The component schemas an operation's success answers refer to, followed through."""
    found, pending = set(), [response for status, response in operation["responses"].items()
                             if status.startswith("2")]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] not in found:
                name = ref.rsplit("/", 1)[1]
                found.add(name)
                pending.append(SPEC["components"]["schemas"][name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ANALYST], ids=["admin", "analyst"])
def test_admin_and_analyst_are_answered_no_personal_data(role):
    granted = {(method, path) for method, path, operation in GUARDED
               if role in POLICY[operation]}
    for method, path in granted:
        operation = SPEC["paths"][path][method.lower()]
        assert _schemas_answered(operation).isdisjoint(PERSONAL_SCHEMAS), (method, path)
    if role is Role.ANALYST:  # aggregates, and what any signed-in user may read
        assert {path for _, path in granted} == {
            "/api/v1/stats/kla", "/api/v1/stats/kla.csv", "/api/v1/me", "/api/v1/regions",
            "/api/v1/agencies",
            "/api/v1/agencies/{code}", "/api/v1/auth/tokens/current", "/api/v1/auth/tokens",
            "/api/v1/me/alerts"}


@pytest.mark.parametrize("holder", list(Role), ids=[r.value for r in Role])
def test_token_holders_admins_serve(client, world_of, holder):
    """POST /users/{id}/tokens, beyond the role table: an admin issues tokens for machine
    accounts and for themselves, never for another person (403 saying why), who would then
    be acting, and reading case content, in that person's name."""
    world = world_of(Role.ADMIN)
    account = world.account_of(holder)
    response = send(client, Call("post", f"/api/v1/users/{account.id}/tokens", {}),
                    world.caller)
    if holder in MACHINE_ROLES:
        assert response.status_code == 201, response.json
        within(response.json, views.ISSUED_TOKEN)
        return
    assert response.status_code == 403, response.json
    within(response.json, views.PROBLEM)
    assert "machine accounts" in response.json["detail"]
    assert send(client, Call("get", "/api/v1/me"), world.caller).status_code == 200
    own = send(client, Call("post", f"/api/v1/users/{world.caller.id}/tokens", {}),
               world.caller)
    assert own.status_code == 201, own.json

