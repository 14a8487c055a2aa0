"""Optimistic concurrency on PATCH /cases/{id}: If-Match required (428), stale → 412."""

import uuid

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from api.auth import service as auth_service
from api.auth.models import User
from api.auth.policy import Operation, Principal, decide
from api.cases import service
from api.cases.models import Case, CaseReferenceCounter
from api.cases.schemas import CaseReportSchema
from api.cases.sla import Deadlines
from api.children.models import Child, Household
from api.db import utcnow
from api.errors import PreconditionFailed
from api.vocabularies.codes import Role
from tests.conftest import BALIKPAPAN, MANGGAR, child_report

DEADLINES = Deadlines()


@pytest.fixture
def staff(make_user):
    return make_user("caseworker", [BALIKPAPAN])


@pytest.fixture
def case_id(client, staff):
    return client.post("/api/v1/cases", json=child_report(source="hotline"),
                       headers=staff.headers).json["id"]


def test_read_carries_an_etag_and_answers_304_when_unchanged(client, staff, case_id):
    read = client.get(f"/api/v1/cases/{case_id}", headers=staff.headers)
    assert read.headers["ETag"]
    again = client.get(f"/api/v1/cases/{case_id}",
                       headers={**staff.headers, "If-None-Match": read.headers["ETag"]})
    assert again.status_code == 304


def test_patch_without_if_match_is_428_and_changes_nothing(client, staff, case_id):
    response = client.patch(f"/api/v1/cases/{case_id}", json={"rt": "9"}, headers=staff.headers)
    assert response.status_code == 428
    assert response.headers["Content-Type"] == "application/problem+json"
    assert client.get(f"/api/v1/cases/{case_id}", headers=staff.headers).json["rt"] == "7"


def test_patch_with_stale_etag_is_412_and_changes_nothing(client, staff, case_id):
    etag = client.get(f"/api/v1/cases/{case_id}", headers=staff.headers).headers["ETag"]
    first = client.patch(f"/api/v1/cases/{case_id}", json={"rt": "8"},
                         headers={**staff.headers, "If-Match": etag})
    assert first.status_code == 200
    assert first.headers["ETag"] != etag
    second = client.patch(f"/api/v1/cases/{case_id}", json={"rt": "9"},
                          headers={**staff.headers, "If-Match": etag})
    assert second.status_code == 412
    assert client.get(f"/api/v1/cases/{case_id}", headers=staff.headers).json["rt"] == "8"


def test_correcting_only_the_child_changes_the_etag(client, staff, case_id):
    etag = client.get(f"/api/v1/cases/{case_id}", headers=staff.headers).headers["ETag"]
    response = client.patch(f"/api/v1/cases/{case_id}", json={"child": {"name": "Budi S."}},
                            headers={**staff.headers, "If-Match": etag})
    assert response.status_code == 200
    assert response.json["child"]["name"] == "Budi S."
    assert response.headers["ETag"] != etag
    stale = client.patch(f"/api/v1/cases/{case_id}", json={"child": {"name": "X"}},
                         headers={**staff.headers, "If-Match": etag})
    assert stale.status_code == 412


def test_household_can_be_added_by_correction(client, staff):
    body = child_report(source="hotline")
    del body["household"]
    case = client.post("/api/v1/cases", json=body, headers=staff.headers).json
    assert case["household"] is None
    etag = client.get(f"/api/v1/cases/{case['id']}", headers=staff.headers).headers["ETag"]
    response = client.patch(f"/api/v1/cases/{case['id']}",
                            json={"household": {"welfare_decile": 2, "kk_number":
                                                "6471010101200001"}},
                            headers={**staff.headers, "If-Match": etag})
    assert response.status_code == 200, response.json
    assert response.json["household"]["welfare_decile"] == 2


def test_racing_writers_cannot_both_win(engine):
    """Two sessions load version N; the later write finds the row changed: 412, not a win."""
    with Session(engine) as setup:
        user = auth_service.create_user(session=setup, username=f"race-{uuid.uuid4().hex[:6]}",
                                        role=Role.CASEWORKER, area_codes=[MANGGAR])
        principal = Principal(user.id, user.username, user.role, (MANGGAR,), None, None)
        report = CaseReportSchema().load(child_report(source="hotline"))
        case = service.report_case(session=setup, grant=decide(principal, Operation.CASE_CREATE),
                                   report=report, deadlines=DEADLINES, now=utcnow())
        setup.commit()
        case_id, child_id, user_id = case.id, case.child_id, user.id
    grant = decide(principal, Operation.CASE_UPDATE)
    try:
        with Session(engine, expire_on_commit=False) as late, Session(engine) as early:
            stale = late.get(Case, case_id)  # read version 1 …
            late.commit()  # … and end that read, as a request checking If-Match would
            service.correct_case(session=early, grant=grant, case=early.get(Case, case_id),
                                 changes={"rt": "1"}, now=utcnow())
            early.commit()
            with pytest.raises(PreconditionFailed):
                service.correct_case(session=late, grant=grant, case=stale,
                                     changes={"rt": "2"}, now=utcnow())
        with Session(engine) as check:
            assert check.get(Case, case_id).rt == "1"
    finally:
        with Session(engine) as cleanup:
            case = cleanup.get(Case, case_id)
            household_id = case.household_id
            # deleted as an object, not by a bulk DELETE: the KLA roll-ups follow the case
            # out (api/stats/rollups.py), as they follow every change of one
            cleanup.delete(case)
            cleanup.flush()
            cleanup.execute(delete(Child).where(Child.id == child_id))
            cleanup.execute(delete(Household).where(Household.id == household_id))
            cleanup.execute(delete(CaseReferenceCounter))
            cleanup.execute(delete(User).where(User.id == user_id))
            cleanup.commit()


def test_if_match_star_is_not_a_version(client, staff, case_id):
    response = client.patch(f"/api/v1/cases/{case_id}", json={"rt": "9"},
                            headers={**staff.headers, "If-Match": "*"})
    assert response.status_code == 428


def test_unknown_case_is_404_before_428(client, staff):
    response = client.patch("/api/v1/cases/00000000-0000-0000-0000-000000000000",
                            json={"rt": "9"}, headers=staff.headers)
    assert response.status_code == 404


def test_empty_correction_is_422(client, staff, case_id):
    etag = client.get(f"/api/v1/cases/{case_id}", headers=staff.headers).headers["ETag"]
    response = client.patch(f"/api/v1/cases/{case_id}", json={},
                            headers={**staff.headers, "If-Match": etag})
    assert response.status_code == 422


def test_created_case_carries_an_etag_ready_for_patch(client, staff):
    created = client.post("/api/v1/cases", json=child_report(source="hotline"),
                          headers=staff.headers)
    response = client.patch(f"/api/v1/cases/{created.json['id']}", json={"rt": "4"},
                            headers={**staff.headers, "If-Match": created.headers["ETag"]})
    assert response.status_code == 200


@pytest.mark.parametrize(("body", "field"), [({"violence_types": []}, "violence_types"),
                                             ({"incident_date": "2015-01-01"}, "incident_date")])
def test_correction_keeps_the_rules_of_a_report(client, staff, case_id, body, field):
    etag = client.get(f"/api/v1/cases/{case_id}", headers=staff.headers).headers["ETag"]
    response = client.patch(f"/api/v1/cases/{case_id}", json=body,
                            headers={**staff.headers, "If-Match": etag})
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_child_shared_by_two_cases_changes_both_etags(client, staff):
    child = {"name": "Dewi", "sex": "female", "birth_date": "2016-02-03",
             "nik": "6471014302160004"}
    first = client.post("/api/v1/cases", json=child_report(source="hotline", child=child),
                        headers=staff.headers)
    second = client.post("/api/v1/cases", json=child_report(source="walk_in", child=child),
                         headers=staff.headers)
    assert second.json["child"]["id"] == first.json["child"]["id"]
    first_etag = client.get(f"/api/v1/cases/{first.json['id']}",
                            headers=staff.headers).headers["ETag"]
    second_url = f"/api/v1/cases/{second.json['id']}"
    renamed = client.patch(second_url, json={"child": {"name": "Dewi Lestari"}}, headers={
        **staff.headers, "If-Match": client.get(second_url, headers=staff.headers).headers["ETag"]})
    assert renamed.status_code == 200
    stale = client.patch(f"/api/v1/cases/{first.json['id']}", json={"child": {"name": "D"}},
                         headers={**staff.headers, "If-Match": first_etag})
    assert stale.status_code == 412
