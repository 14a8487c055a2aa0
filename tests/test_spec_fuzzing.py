"""Schemathesis fuzzes every operation of openapi/openapi.json with each role's token, then
chains operations through the links it infers from the spec; a server error, an answer the
spec does not describe or an undocumented status fails the run (schemathesis.toml has the
settings and the checks)."""

from pathlib import Path

import pytest
import schemathesis
from schemathesis.core import NotSet
from schemathesis.openapi.checks import UndefinedStatusCode

from api import create_app
from api.auth.policy import POLICY, Operation
from api.db import make_engine
from api.migrate import upgrade
from api.vocabularies.codes import Role
from tests.databases import database_of_its_own
from tests.fuzz.aim import aim_at_seeded_objects, current_version, digest
from tests.fuzz.world import build_world

ROOT = Path(__file__).resolve().parents[1]
# a role the policy refuses gets one request in this many: the 403 comes before parsing, so
# its answer does not depend on the input
REFUSED_SHARE = 16


class AppUnderTest:
    """A WSGI app that forwards to the app the world fixture builds: the schema needs its app
    when the tests are collected, before any fixture runs."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


APP = AppUnderTest()
schema = schemathesis.openapi.from_path(
    ROOT / "openapi" / "openapi.json",
    config=schemathesis.Config.from_path(ROOT / "schemathesis.toml"))
schema.app = APP


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The demo world in a database of its own, served over one connection."""
    # not the suite's own database: every fuzzed request commits, as it does in production,
    # and the rest of the suite expects tables that only its tests wrote to
    with database_of_its_own(tmp_path_factory.mktemp("fuzz"), "lindung_fuzz") as url:
        upgrade(url)
        engine = make_engine(url)
        with engine.connect() as connection:
            APP.app = create_app({"DATABASE_URL": url, "TESTING": True}, bind=connection)
            yield build_world(APP.app, connection)
        engine.dispose()


def status_is_named(ctx, response, case):
    """Every status the operation answers is one it names: with the `default` response every
    operation has, schemathesis' status_code_conformance accepts any status at all."""
    if case.method.upper() != case.operation.method.upper():
        return  # a method the path lacks: unsupported_method checks its 405
    named = {code for code in case.operation.responses.status_codes if code != "default"}
    if str(response.status_code) not in named:
        raise UndefinedStatusCode(
            operation=case.operation.label, status_code=response.status_code,
            defined_status_codes=sorted(named), allowed_status_codes=sorted(map(int, named)),
            message=f"Received: {response.status_code}\nNamed: {', '.join(sorted(named))}")


# they end the caller's own sessions: sent with an account of their own each time, or the
# role's token would be gone for the rest of the run
ENDS_SESSIONS = {Operation.LOG_OUT.value, Operation.LOG_OUT_EVERYWHERE.value}


def headers_of(world, operation, role: Role) -> dict:
    """The caller's Authorization header for OPERATION."""
    if operation.definition.raw.get("x-lindung-operation") in ENDS_SESSIONS:
        return world.disposable_headers(role)
    return world.headers(role)


def allowed_roles(operation) -> list[Role] | None:
    """The roles the policy lets call OPERATION; None when it needs no token."""
    definition = operation.definition.raw
    if definition.get("security") == []:
        return None
    return list(POLICY[Operation(definition["x-lindung-operation"])])


def callers(case) -> list[Role | None]:
    """Who sends CASE. Every role the policy lets call its operation sends the fuzzing phase's
    requests; the coverage phase's invalid ones, rejected alike whoever sends them, go to one
    of those roles in turn. The roles the policy refuses send the default request of the
    coverage phase and one in REFUSED_SHARE of the others."""
    allowed = allowed_roles(case.operation)
    if allowed is None:
        return [None]
    body = None if isinstance(case.body, NotSet) else case.body
    turn = digest((case.path_parameters, case.query, dict(case.headers or {}), body))
    phase, mode = case.meta.phase, case.meta.generation.mode
    senders = list(allowed)
    if phase.name.value == "coverage" and mode.is_negative:
        senders = [allowed[turn % len(allowed)]]
    if getattr(phase.data, "scenario", None) == "default_positive_test" or \
            turn % REFUSED_SHARE == 0:
        senders += [role for role in Role if role not in allowed]
    return senders


@schema.parametrize()
def test_operation_holds_to_the_spec(case, world):
    aim_at_seeded_objects(case, world)
    for role in callers(case):
        headers = {} if role is None else {**headers_of(world, case.operation, role),
                                           **current_version(case, world, role)}
        try:
            case.call_and_validate(headers=headers, additional_checks=[status_is_named])
        except BaseException as failure:
            failure.add_note(f"Sent as: {role or 'anonymous'}")
            raise


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_workflows_hold_to_the_spec(role, world):
    def may_call(ctx) -> bool:
        allowed = allowed_roles(ctx.operation)
        return allowed is None or role in allowed

    followed = []  # (link, status) of each step that followed a link

    class Workflow(schema.include(func=may_call).as_state_machine()):
        # each scenario starts from the same world, in a transaction rolled back at its end:
        # replaying one (to explore, or to shrink a failure) must meet the state it met the
        # first time
        def setup(self):
            self.scenario = world.connection.begin()

        def teardown(self):
            self.scenario.rollback()

        def step(self, input):
            output = super().step(input)
            if input.transition is not None and input.is_applied:
                followed.append((input.transition.id, output.response.status_code))
            return output

        def before_call(self, case):
            aim_at_seeded_objects(case, world)

        def get_call_kwargs(self, case):
            return {"headers": {**headers_of(world, case.operation, role),
                                **current_version(case, world, role)}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # the headers named here are the caller's own: ignored_auth then knows the token
            # was not generated, and probes without it
            case.validate_response(response, additional_checks=[status_is_named],
                                   headers=kwargs["headers"], transport_kwargs=kwargs,
                                   recorder=self.recorder)

    Workflow.run(settings=schema.config.get_hypothesis_settings(phase="stateful"))
    assert any(200 <= status < 300 for _, status in followed), "no link led anywhere"


def test_nul_in_a_query_parameter_no_view_reads_is_422(client, make_user):
    # found by the fuzzing on PostgreSQL: the audit trail keeps the query of a read, and
    # jsonb cannot hold a NUL (a 500 before)
    caller = make_user("caseworker", ["6471"])
    response = client.get("/api/v1/agencies?page=1&%00=null", headers=caller.headers)
    assert response.status_code == 422
    assert response.json["errors"] == {"query": ["Must not contain NUL characters."]}
