"""Problem details everywhere, health, vocabularies and the OpenAPI document."""

import json
from pathlib import Path

from api.cli import openapi_document
from api.vocabularies.codes import VOCABULARIES

PROBLEM = "application/problem+json"
COMMITTED_SPEC = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def test_health_answers_ok_without_a_token(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["database"] == "ok"
    assert response.json["version"]


def test_unknown_route_is_a_404_problem(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == PROBLEM
    assert set(response.json) >= {"type", "title", "status", "detail"}


def test_wrong_method_is_a_405_problem_with_allow(client):
    response = client.delete("/api/v1/health")
    assert response.status_code == 405
    assert response.headers["Content-Type"] == PROBLEM
    assert "GET" in response.headers["Allow"]


def test_crash_is_a_500_problem_without_a_trace(app):
    def crash():
        raise RuntimeError("secret internals: Budi Santoso 6471010405170003")

    app.add_url_rule("/api/v1/crash", view_func=crash)
    response = app.test_client().get("/api/v1/crash")
    assert response.status_code == 500
    assert response.headers["Content-Type"] == PROBLEM
    assert "secret" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_invalid_token_is_401_with_bearer_challenge(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer lnd_not-a-token"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.headers["Content-Type"] == PROBLEM


def test_vocabularies_label_every_code_in_both_languages(client):
    body = client.get("/api/v1/vocabularies").json["vocabularies"]
    assert set(body) == set(VOCABULARIES)
    for name, codes in VOCABULARIES.items():
        assert [entry["code"] for entry in body[name]] == [c.value for c in codes]
        assert all(entry["label_id"] and entry["label_en"] for entry in body[name])
    violence = {e["code"]: e["label_id"] for e in body["violence_types"]}
    assert violence["neglect"] == "Penelantaran"


def test_spec_is_served_and_declares_bearer_security(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "An opaque API token (lnd_…)"}
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/api/v1/health"]["get"]["security"] == []
    assert "401" in spec["paths"]["/api/v1/cases"]["post"]["responses"]


def test_swagger_ui_is_served(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert "swagger" in response.get_data(as_text=True).lower()


def test_committed_spec_is_current(app):
    """Regenerate with `lindung openapi write` when this fails."""
    assert COMMITTED_SPEC.read_text() == openapi_document(app)


def test_every_operation_is_public_or_guarded_by_the_policy():
    """No endpoint without a declared rule: public (security []) or a policy operation."""
    from api.auth.policy import POLICY, Operation

    spec = json.loads(COMMITTED_SPEC.read_text())
    operations = [(path, method, op) for path, item in spec["paths"].items()
                  for method, op in item.items() if method != "parameters"]
    assert len(operations) >= 8
    for path, method, operation in operations:
        if operation.get("security") == []:
            assert "x-lindung-operation" not in operation
            continue
        name = operation.get("x-lindung-operation")
        assert name, f"{method.upper()} {path} declares no policy operation"
        assert Operation(name) in POLICY
        assert {"401", "403"} <= set(operation["responses"]), f"{method.upper()} {path}"
