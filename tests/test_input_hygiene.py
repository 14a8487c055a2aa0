"""Hostile or sloppy input: answered with a clear problem, never a crash, never stored."""

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.cases.models import Case
from tests.conftest import BALIKPAPAN, MANGGAR, child_report

PROBLEM = "application/problem+json"


@pytest.fixture
def rt_head(make_user):
    return make_user("rt_head", [MANGGAR])


def _child(**overrides):
    return {"name": "Budi Santoso", "sex": "male", "birth_date": "2017-05-04", **overrides}


BAD_VALUES = [
    ("NUL in text", {"description": "a\u0000b"}, "description"),
    ("control character", {"address": "Jl. \u0007"}, "address"),
    ("lone surrogate", {"description": "\ud800"}, "description"),
    ("blank name", {"child": _child(name="   ")}, "child.name"),
    ("NIK in other digits", {"child": _child(nik="６４７１０１０４０５１７０００３")}, "child.nik"),
    ("RT in Arabic-Indic digits", {"rt": "٣"}, "rt"),
    ("RT zero", {"rt": "000"}, "rt"),
    ("emergency as text", {"emergency": "yes"}, "emergency"),
    ("emergency as number", {"emergency": 1}, "emergency"),
    ("age as text", {"child": _child(birth_date=None, age_months="5")}, "child.age_months"),
    ("age with a fraction", {"child": _child(birth_date=None, age_months=5.5)},
     "child.age_months"),
    ("date without dashes", {"incident_date": "20260101"}, "incident_date"),
    ("impossible date", {"incident_date": "2026-02-30"}, "incident_date"),
    ("object for a list", {"violence_types": {"physical": True}}, "violence_types"),
    ("incident before birth", {"incident_date": "2010-01-01"}, "incident_date"),
    ("perpetrator on stunting", {"category": "stunting_risk", "violence_types": []},
     "perpetrator_relation"),
]


@pytest.mark.parametrize(("case", "overrides", "field"), BAD_VALUES,
                         ids=[c[0] for c in BAD_VALUES])
def test_bad_value_is_422_naming_the_field(client, session, rt_head, case, overrides, field):
    body = child_report(**overrides)
    body["child"] = {k: v for k, v in body["child"].items() if v is not None}
    response = client.post("/api/v1/cases", json=body, headers=rt_head.headers)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_text_is_trimmed(client, make_user):
    staff = make_user("caseworker", [BALIKPAPAN])
    body = child_report(source="hotline", address="  Jl. Damai  ",
                        child=_child(nik="6471010405170003\n"))
    case = client.post("/api/v1/cases", json=body, headers=staff.headers).json
    assert case["address"] == "Jl. Damai"
    assert case["child"]["nik"] == "6471010405170003"


def test_body_that_is_not_json_is_415(client, rt_head):
    response = client.post("/api/v1/cases", data=json.dumps(child_report()),
                           headers={**rt_head.headers, "Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.headers["Content-Type"] == PROBLEM


def test_broken_json_is_400_saying_so(client, rt_head):
    response = client.post("/api/v1/cases", data="{bad",
                           headers={**rt_head.headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == PROBLEM
    assert "JSON" in response.json["detail"]


def test_deeply_nested_json_is_400(client, rt_head):
    body = '{"category":' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post("/api/v1/cases", data=body,
                           headers={**rt_head.headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == PROBLEM


def test_oversized_body_is_413(client, rt_head):
    body = child_report(description="x" * (1024 * 1024))
    response = client.post("/api/v1/cases", json=body, headers=rt_head.headers)
    assert response.status_code == 413
    assert response.headers["Content-Type"] == PROBLEM


@pytest.mark.parametrize("query", ["page=99999999999999999999", "page=9223372036854775807"])
def test_page_far_past_the_end_is_empty(client, make_user, query):
    staff = make_user("caseworker", [BALIKPAPAN])
    response = client.get(f"/api/v1/cases?{query}", headers=staff.headers)
    assert response.status_code == 200
    assert response.json == []


@pytest.mark.parametrize("query", ["reported_to=9999-12-31", "reported_from=0001-01-01",
                                   "q=a%00b", "village_code=６４７１"])
def test_bad_filter_is_422(client, make_user, query):
    staff = make_user("caseworker", [BALIKPAPAN])
    response = client.get(f"/api/v1/cases?{query}", headers=staff.headers)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == PROBLEM


def test_swagger_ui_assets_are_served_locally(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in page
    with client.get("/api/v1/docs/assets/swagger-ui-bundle.js") as script:
        assert script.status_code == 200
        assert len(script.get_data()) > 100_000


@pytest.mark.parametrize("cursor", ["xs1", "s", "s1x", "s１"])
def test_patterns_match_whole_values(client, make_user, cursor):
    staff = make_user("caseworker", [BALIKPAPAN])
    response = client.get("/api/v1/referrals", query_string={"cursor": cursor},
                          headers=staff.headers)
    assert response.status_code == 422 and "cursor" in response.json["errors"]


def test_spec_patterns_are_ecma_262():
    """Every pattern is anchored ^…$ and uses no Python-only syntax (\\Z, \\A)."""
    spec = json.loads((Path(__file__).resolve().parent.parent / "openapi" / "openapi.json")
                      .read_text())
    patterns = list(_patterns(spec))
    assert len(patterns) >= 8
    for pattern in patterns:
        assert pattern.startswith("^") and pattern.endswith("$"), pattern
        assert "\\Z" not in pattern and "\\A" not in pattern, pattern


def _patterns(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern":
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _patterns(item)
