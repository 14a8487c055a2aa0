"""The data the spec fuzzing runs against: the demo users (one per role, each with a live
token), their reports, and enough workflow behind them that every kind of object exists
(a triaged and routed case with referrals, a weighed child, a second city, a spare token)."""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from api.auth import service as auth_service
from api.cases.sla import Deadlines
from api.demo import DEMO_USERS, load_demo
from api.regions import calendar
from api.vocabularies.codes import Role

API = "/api/v1"


@dataclass
class World:
    """The app under test, a token per role, and the ids of the objects seeded for it."""

    app: Flask
    connection: Connection  # the app's only one: every request commits on it
    tokens: dict[Role, str]
    # path parameter name (case_id, referral_id, …) → ids of seeded objects it can name
    ids: dict[str, list[str]] = field(default_factory=dict)

    def headers(self, role: Role) -> dict:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def disposable_headers(self, role: Role) -> dict:
        """A token of a new account like the demo user of ROLE: for the operations that end
        the caller's sessions, which would end the role's run with its own token."""
        demo = next(user for user in DEMO_USERS if user.username == f"demo_{role.value}")
        with self.app.app_context(), Session(bind=self.connection) as session:
            user = auth_service.create_user(
                session=session, username=f"fuzz_{role.value}_{uuid.uuid4().hex[:8]}",
                role=role, area_codes=list(demo.areas), agency_code=demo.agency)
            token = auth_service.issue_token(session=session, user=user)
            session.commit()
        return {"Authorization": f"Bearer {token}"}


def build_world(app: Flask, connection: Connection) -> World:
    """Load the demo data set through CONNECTION, then walk cases through the API."""
    with app.app_context(), Session(bind=connection) as session:
        logins = load_demo(session=session, secret_key=app.config["SECRET_KEY"],
                           deadlines=Deadlines.from_config(app.config))
        session.commit()
    tokens = {login.username: login.token for login in logins}
    # one demo user per role; demo_caseworker (Balikpapan) stands for the caseworkers
    world = World(app=app, connection=connection,
                  tokens={role: tokens[f"demo_{role.value}"] for role in Role})
    seeder = _Seeder(world)
    seeder.route_a_reported_case()
    # a case of another city: outside the scope of every Balikpapan user
    seeder.call("POST", "/cases", tokens["demo_caseworker_banjarmasin"], 201, json={
        "category": "violence", "violence_types": ["neglect"], "source": "hotline",
        "village_code": "6371011001", "rt": "4", "rw": "1",
        "child": {"name": "Contoh Anak Tiga", "sex": "female", "birth_date": "2019-02-11"}})
    cases = (seeder.read("/cases", world.tokens[Role.SUPERVISOR])
             + seeder.read("/cases", tokens["demo_caseworker_banjarmasin"]))
    admin = world.tokens[Role.ADMIN]
    world.ids = {
        "case_id": [case["id"] for case in cases],
        "referral_id": [referral["id"] for referral in
                        seeder.read("/referrals", world.tokens[Role.CASEWORKER])],
        "child_id": [seeder.weigh_a_child(), *(case["child"]["id"] for case in cases)],
        "user_id": [user["id"] for user in seeder.read("/users", admin)],
        # never a fuzzing role's own token: revoking it would end that role's run
        "token_id": [seeder.spare_token()],
        "code": [agency["code"] for agency in seeder.read("/agencies", admin)],
    }
    return world


class _Seeder:
    """Calls the API as the demo users, insisting on the expected answer."""

    def __init__(self, world: World):
        self.world = world
        self.client = world.app.test_client()

    def call(self, method: str, path: str, token: str, expected: int, *, headers=None,
             **kwargs):
        response = self.client.open(f"{API}{path}", method=method, headers={
            "Authorization": f"Bearer {token}", **(headers or {})}, **kwargs)
        assert response.status_code == expected, (method, path, response.get_json())
        return response

    def read(self, path: str, token: str) -> list:
        return self.call("GET", path, token, 200).get_json()

    def route_a_reported_case(self) -> None:
        """Triage and route the demo's violence report: referrals to the agencies."""
        token = self.world.tokens[Role.CASEWORKER]
        violence = next(case for case in self.read("/cases", token)
                        if case["category"] == "violence")
        path = f"/cases/{violence['id']}"
        etag = self.call("GET", path, token, 200).headers["ETag"]
        etag = self.call("POST", f"{path}/triage", token, 200, json={"risk_level": "high"},
                         headers={"If-Match": etag}).headers["ETag"]
        self.call("POST", f"{path}/route", token, 200, headers={"If-Match": etag})

    def weigh_a_child(self) -> str:
        """A posyandu weighing of a one-year-old in Lamaru; the child's id."""
        today = calendar.today_in("6471011002")
        return self.call("POST", "/measurements", self.world.tokens[Role.POSYANDU_CADRE], 201,
                         json={"child": {"name": "Contoh Anak Empat", "sex": "female",
                                         "birth_date": str(today - timedelta(days=400)),
                                         "village_code": "6471011002"},
                               "measured_on": str(today), "weight_kg": 7.0,
                               "height_cm": 66.0, "position": "lying"}).get_json()["child_id"]

    def spare_token(self) -> str:
        """The id of a token of a machine account of its own, for the admin to revoke."""
        admin = self.world.tokens[Role.ADMIN]
        user = self.call("POST", "/users", admin, 201, json={
            "username": "fuzz_spare", "role": "agency_system", "agency": "DINKES"}).get_json()
        return self.call("POST", f"/users/{user['id']}/tokens", admin, 201,
                         json={}).get_json()["id"]
