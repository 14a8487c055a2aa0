"""Users, tokens and GET /me."""

import hashlib
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from api.auth.models import ApiToken
from api.db import utcnow
from tests.conftest import BALIKPAPAN, MANGGAR


def test_me_describes_the_caller(client, make_user):
    caller = make_user("agency_officer", agency="DINSOS")
    response = client.get("/api/v1/me", headers=caller.headers)
    assert response.json == {"id": str(caller.id), "username": caller.username,
                             "role": "agency_officer", "area_codes": [], "agency": "DINSOS",
                             "email": None, "phone": None, "language": "id"}


def test_tokens_are_stored_only_as_sha256(session, make_user):
    caller = make_user("caseworker", [BALIKPAPAN])
    assert caller.token.startswith("lnd_") and len(caller.token) >= 4 + 43
    stored = session.scalars(select(ApiToken.token_hash)).all()
    assert hashlib.sha256(caller.token.encode()).hexdigest() in stored
    assert caller.token not in stored


def test_revoked_and_expired_tokens_are_refused(client, session, make_user):
    revoked = make_user("caseworker", [BALIKPAPAN])
    expired = make_user("caseworker", [BALIKPAPAN])
    for caller, column, value in ((revoked, "revoked_at", utcnow()),
                                  (expired, "expires_at", utcnow() - timedelta(seconds=1))):
        token = session.scalar(select(ApiToken).where(
            ApiToken.token_hash == hashlib.sha256(caller.token.encode()).hexdigest()))
        setattr(token, column, value)
    session.commit()
    for caller in (revoked, expired):
        response = client.get("/api/v1/me", headers=caller.headers)
        assert response.status_code == 401


def test_other_schemes_are_refused(client, make_user):
    caller = make_user("admin")
    response = client.get("/api/v1/me", headers={"Authorization": f"Basic {caller.token}"})
    assert response.status_code == 401


def _cli(tmp_path, monkeypatch, *args, input=None):
    from api.cli import main

    monkeypatch.setenv("LINDUNG_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    return CliRunner().invoke(main, list(args), input=input)


def test_users_create_prints_a_working_token_last(tmp_path, monkeypatch):
    assert _cli(tmp_path, monkeypatch, "demo").exit_code == 0
    result = _cli(tmp_path, monkeypatch, "users", "create", "ani", "--role", "rt_head",
                  "--area", MANGGAR)
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("lnd_")

    from api import create_app

    app = create_app()
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.json["username"] == "ani"
    assert response.json["area_codes"] == [MANGGAR]

    again = _cli(tmp_path, monkeypatch, "tokens", "create", "ani")
    assert again.exit_code == 0 and again.output.strip().startswith("lnd_")


def test_users_create_refuses_bad_combinations(tmp_path, monkeypatch):
    assert _cli(tmp_path, monkeypatch, "demo").exit_code == 0
    no_area = _cli(tmp_path, monkeypatch, "users", "create", "x", "--role", "caseworker")
    assert no_area.exit_code != 0 and "area" in no_area.output
    no_agency = _cli(tmp_path, monkeypatch, "users", "create", "y", "--role", "agency_system")
    assert no_agency.exit_code != 0 and "agency" in no_agency.output
    unknown = _cli(tmp_path, monkeypatch, "users", "create", "z", "--role", "rt_head",
                   "--area", "6471019999")
    assert unknown.exit_code != 0 and "6471019999" in unknown.output


def test_users_create_with_password_stores_argon2id(tmp_path, monkeypatch):
    _cli(tmp_path, monkeypatch, "db", "upgrade")
    result = _cli(tmp_path, monkeypatch, "users", "create", "root", "--role", "admin",
                  "--password", input="s3cret-Passw0rd\ns3cret-Passw0rd\n")
    assert result.exit_code == 0, result.output
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    with engine.connect() as connection:
        stored = connection.exec_driver_sql(
            "SELECT password_hash FROM users WHERE username = 'root'").scalar_one()
    engine.dispose()
    assert stored.startswith("$argon2id$")


def test_demo_is_idempotent_and_prints_the_same_tokens(tmp_path, monkeypatch):
    first = _cli(tmp_path, monkeypatch, "demo")
    second = _cli(tmp_path, monkeypatch, "demo")
    assert first.exit_code == second.exit_code == 0

    def logins(output):
        return output[output.index("Demo users"):].splitlines()[1:]

    assert logins(first.output) == logins(second.output)
    roles = {line.split()[0] for line in logins(first.output)}
    assert roles == {"rt_head", "teacher", "posyandu_cadre", "caseworker", "supervisor",
                     "agency_officer", "agency_system", "analyst", "admin"}


def test_users_create_refuses_a_weak_password_naming_the_rule(tmp_path, monkeypatch):
    _cli(tmp_path, monkeypatch, "db", "upgrade")
    for password, rule in (("a", "at least 10 characters"),
                           ("rumah-pak-joko", "contain the username"),
                           ("password123", "known from data breaches"),
                           ("Balikpapan-2026!", "name of this service, of a city")):
        result = _cli(tmp_path, monkeypatch, "users", "create", "pak-joko", "--role", "admin",
                      "--password", input=f"{password}\n{password}\n")
        assert result.exit_code == 2, (password, result.output)
        assert "password: " in result.output and rule in result.output, result.output
    created = _cli(tmp_path, monkeypatch, "users", "create", "  Pak-Joko ", "--role", "admin",
                   "--password", input="rumah joglo di tepi sungai\n" * 2)
    assert created.exit_code == 0, created.output
    assert "created user pak-joko " in created.output  # names are stored as logins find them
