"""The OpenAPI document is a contract a generated client can rely on (DESIGN §3): every
operation named, every schema typed, one X-Pagination schema, every header an answer sends
documented — checked against the headers the real app sends."""

import json
import re
import uuid

import pytest
from flask import request

from api.cli import openapi_document
from tests.conftest import BALIKPAPAN, LAMARU, MANGGAR, child_report

LOWER_CAMEL_CASE = re.compile(r"[a-z]+(?:[A-Z0-9][a-z0-9]*)*")
METHODS = {"get", "put", "post", "patch", "delete"}
# headers of HTTP itself, not of this API's contract
TRANSPORT_HEADERS = {"content-type", "content-length", "date", "server", "connection", "vary",
                     "transfer-encoding"}


@pytest.fixture(scope="module")
def spec():
    from api.app import create_app

    return json.loads(openapi_document(create_app({"TESTING": True})))


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _resolve(spec, thing):
    while isinstance(thing, dict) and "$ref" in thing:
        section, kind, name = thing["$ref"].removeprefix("#/").split("/")
        thing = spec[section][kind][name]
    return thing


def test_every_operation_has_a_unique_lower_camel_case_operation_id(spec):
    ids = [operation.get("operationId") for _, _, operation in _operations(spec)]
    assert all(ids), [f"{m} {p}" for p, m, o in _operations(spec) if not o.get("operationId")]
    assert len(ids) == len(set(ids))
    assert all(LOWER_CAMEL_CASE.fullmatch(name) for name in ids), ids


def test_operations_are_named_by_what_they_do(spec):
    named = {(method, path): operation["operationId"]
             for path, method, operation in _operations(spec)}
    assert named[("post", "/api/v1/cases")] == "reportCase"
    assert named[("post", "/api/v1/cases/{case_id}/triage")] == "triageCase"
    assert named[("get", "/api/v1/referrals")] == "listReferrals"
    assert named[("post", "/api/v1/measurements")] == "recordMeasurement"
    assert named[("get", "/api/v1/stats/kla")] == "getKlaStatistics"


# free-form by design: what each kind of event records
FREE_FORM = {"AuditEvent.details.additionalProperties", "CaseEvent.details.additionalProperties"}


def _untyped(schema, where):
    """Places in SCHEMA a generated client could only take as 'any'."""
    if not isinstance(schema, dict) or where in FREE_FORM:
        return []
    found = []
    combined = any(key in schema for key in ("$ref", "allOf", "anyOf", "oneOf"))
    if not combined and "type" not in schema:
        found.append(where)
    if schema.get("type") == "object" and not combined and not (
            "properties" in schema or "additionalProperties" in schema):
        found.append(where)
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []):
        if alternative.get("type") == "object" and "properties" not in alternative:
            found.append(f"{where} (an untyped alternative)")
    for name, child in schema.get("properties", {}).items():
        found += _untyped(child, f"{where}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += _untyped(schema[key], f"{where}.{key}")
    for key in ("allOf", "anyOf", "oneOf"):
        for index, child in enumerate(schema.get(key, [])):
            found += _untyped(child, f"{where}.{key}[{index}]")
    return found


def test_no_schema_leaves_a_field_untyped(spec):
    untyped = []
    for name, schema in spec["components"]["schemas"].items():
        untyped += _untyped(schema, name)
    for path, method, operation in _operations(spec):
        for parameter in operation.get("parameters", []):
            parameter = _resolve(spec, parameter)
            untyped += _untyped(parameter["schema"], f"{method} {path} {parameter['name']}")
    assert untyped == []


def test_nested_objects_are_named_schemas(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["Case"]["properties"]["household"]["allOf"] == [
        {"$ref": "#/components/schemas/HouseholdView"}]
    assert schemas["Child"]["properties"]["latest_measurement"]["allOf"] == [
        {"$ref": "#/components/schemas/Measurement"}]
    assert schemas["AgencyCaseView"]["properties"]["latest_measurement"]["allOf"] == [
        {"$ref": "#/components/schemas/Measurement"}]
    assert schemas["Referral"]["properties"]["case_reference"]["type"] == "string"


def test_every_answer_documents_its_request_id(spec):
    missing = []
    for path, method, operation in _operations(spec):
        for status, response in operation["responses"].items():
            if "X-Request-ID" not in _resolve(spec, response).get("headers", {}):
                missing.append(f"{method} {path} {status}")
    assert missing == []


def test_one_x_pagination_schema_serves_page_and_cursor_paging(spec):
    header = spec["components"]["headers"]["PAGINATION"]
    assert header["schema"] == {"type": "string"}  # a JSON text, as HTTP sends it
    assert header["x-json-schema"] == {"$ref": "#/components/schemas/PaginationMetadata"}
    paging = spec["components"]["schemas"]["PaginationMetadata"]
    assert {"total", "page", "next_page", "next_cursor", "page_size"} <= set(paging["properties"])
    assert "required" not in paging  # totals may be left out of deep pages
    documented = [operation["responses"]["200"]["headers"]["X-Pagination"]
                  for path, method, operation in _operations(spec)
                  if "X-Pagination" in operation["responses"].get("200", {}).get("headers", {})]
    assert len(documented) >= 5
    assert all(header == {"$ref": "#/components/headers/PAGINATION"} for header in documented)


def test_statistics_as_csv_have_an_operation_answering_only_csv(spec):
    json_or_csv = spec["paths"]["/api/v1/stats/kla"]["get"]["responses"]["200"]["content"]
    assert list(json_or_csv) == ["application/json", "text/csv"]
    only_csv = spec["paths"]["/api/v1/stats/kla.csv"]["get"]["responses"]["200"]["content"]
    assert list(only_csv) == ["text/csv"]
    assert only_csv["text/csv"]["schema"]["type"] == "string"


def test_routing_takes_no_required_body(spec):
    route = spec["paths"]["/api/v1/cases/{case_id}/route"]["post"]
    assert route.get("requestBody", {}).get("required", False) is False


def test_routing_without_a_body_routes(client, make_user):
    rt_head, worker = make_user("rt_head", [MANGGAR]), make_user("caseworker", [BALIKPAPAN])
    case_url = f"/api/v1/cases/{_report(client, rt_head)['id']}"
    etag = client.get(case_url, headers=worker.headers).headers["ETag"]
    triaged = client.post(f"{case_url}/triage", json={"risk_level": "high"},
                          headers={**worker.headers, "If-Match": etag})
    routed = client.post(f"{case_url}/route",
                         headers={**worker.headers, "If-Match": triaged.headers["ETag"]})
    assert routed.status_code == 200, routed.json
    assert routed.json["status"] == "referred"


def _report(client, caller, **overrides):
    response = client.post("/api/v1/cases", json=child_report(**overrides),
                           headers={**caller.headers, "Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.json
    return response.json


def _spec_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_header_the_app_sends_is_documented(app, client, make_user, spec):
    answers = []

    @app.after_request
    def note(response):
        if request.url_rule is not None:
            answers.append((_spec_path(request.url_rule.rule), request.method.lower(),
                            response.status_code, dict(response.headers)))
        return response

    _walk_the_api(client, make_user)
    undocumented, seen = [], set()
    for path, method, status, headers in answers:
        operation = spec["paths"].get(path, {}).get(method)
        if operation is None:
            continue  # the docs pages and the spec itself
        documented_answer = operation["responses"].get(str(status),
                                                       operation["responses"]["default"])
        documented = {name.lower() for name in
                      _resolve(spec, documented_answer).get("headers", {})}
        for name in headers:
            seen.add(name.lower())
            if name.lower() not in documented | TRANSPORT_HEADERS:
                undocumented.append(f"{method} {path} {status}: {name}")
    assert sorted(set(undocumented)) == []
    # the walk met the headers it is meant to check
    assert {"etag", "location", "x-pagination", "idempotent-replayed", "www-authenticate",
            "content-disposition"} <= seen


def _walk_the_api(client, make_user):
    """Report, read, triage, route, refer, accept, weigh, list, export — and the refusals."""
    rt_head, worker = make_user("rt_head", [MANGGAR]), make_user("caseworker", [BALIKPAPAN])
    supervisor = make_user("supervisor", [BALIKPAPAN])
    officer = make_user("agency_officer", agency="DINSOS")
    cadre, admin = make_user("posyandu_cadre", [LAMARU]), make_user("admin")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = child_report()
    client.post("/api/v1/cases", json=body, headers={**rt_head.headers, **key})
    case = client.post("/api/v1/cases", json=body, headers={**rt_head.headers, **key}).json
    case_url = f"/api/v1/cases/{case['id']}"
    client.get("/api/v1/cases", headers=worker.headers)
    etag = client.get(case_url, headers=worker.headers).headers["ETag"]
    client.get(case_url, headers={**worker.headers, "If-None-Match": etag})
    client.post(f"{case_url}/triage", json={"risk_level": "high"}, headers=worker.headers)
    client.post(f"{case_url}/triage", json={"risk_level": "high"},
                headers={**worker.headers, "If-Match": '"stale"'})
    etag = client.post(f"{case_url}/triage", json={"risk_level": "high"},
                       headers={**worker.headers, "If-Match": etag}).headers["ETag"]
    client.get(f"{case_url}/routing-plan", headers=worker.headers)
    client.get(f"{case_url}/timeline", headers=worker.headers)
    client.post(f"{case_url}/route", headers={**worker.headers, "If-Match": etag})
    client.post(f"{case_url}/referrals", json={"agency": "DINKES", "service": "legal_aid"},
                headers=worker.headers)
    client.post(f"{case_url}/referrals", json={"agency": "DISDIK", "service": "school_support"},
                headers=worker.headers)
    (referral,) = client.get("/api/v1/referrals", headers=officer.headers).json
    referral_url = f"/api/v1/referrals/{referral['id']}"
    etag = client.get(referral_url, headers=officer.headers).headers["ETag"]
    client.post(f"{referral_url}/transitions", json={"to": "accepted"},
                headers={**officer.headers, "If-Match": etag})
    client.post("/api/v1/measurements", headers=cadre.headers, json={
        "child": {"name": "Putri", "sex": "female", "birth_date": "2025-11-20",
                  "village_code": LAMARU},
        "measured_on": "2026-11-20", "weight_kg": 7.0, "height_cm": 64.0, "position": "lying"})
    client.get("/api/v1/stats/kla", query_string={"area": "6471"}, headers=supervisor.headers)
    client.get("/api/v1/stats/kla.csv", query_string={"area": "6471"},
               headers=supervisor.headers)
    client.get("/api/v1/stats/kla", query_string={"area": "6471"},
               headers={**supervisor.headers, "Accept": "text/csv"})
    client.get("/api/v1/agencies", headers=admin.headers)
    client.get("/api/v1/me")
    client.get(case_url, headers=officer.headers)
    client.get(f"/api/v1/cases/{uuid.uuid4()}", headers=worker.headers)
    client.get("/api/v1/health")
    client.get("/api/v1/vocabularies")
