"""The `lindung` command."""

import json
import os
import sys
from pathlib import Path

import click

from api.vocabularies.codes import Role


def _app():
    from api import create_app

    return create_app()


def _session(app):
    return app.extensions["lindung.db"].session()


@click.group()
def main():
    """Lindung: case management for child-protection referrals."""


@main.command()
@click.option("--host", default=lambda: os.environ.get("LINDUNG_HOST", "127.0.0.1"),
              show_default="127.0.0.1")
@click.option("--port", type=int, default=lambda: int(os.environ.get("LINDUNG_PORT", 5000)),
              show_default="5000")
@click.option("--workers", type=int, default=lambda: int(os.environ.get(
              "LINDUNG_WORKERS", min(4, 2 * (os.cpu_count() or 1) + 1))),
              show_default="2 × cores + 1, at most 4")
def serve(host, port, workers):
    """Serve the API with gunicorn (several worker processes)."""
    from gunicorn.app.base import BaseApplication

    from api.migrate import upgrade

    app = _app()
    upgrade(app.config["DATABASE_URL"])

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            # the path without its query: a search (?q=) may hold a child's name
            self.cfg.set("access_log_format", '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss')
            self.cfg.set("timeout", 60)

        def load(self):
            return _app()

    base = f"http://{host}:{port}/api/v1"
    click.echo(f"Lindung serving on {base} with {workers} workers")
    click.echo(f"  docs (Swagger UI): {base}/docs   spec: {base}/openapi.json")
    Server().run()


@main.group()
def db():
    """Database schema."""


@db.command("upgrade")
def db_upgrade():
    """Migrate the database to the newest schema."""
    from api.migrate import upgrade

    app = _app()
    upgrade(app.config["DATABASE_URL"])
    click.echo("database is up to date")


@main.command()
def demo():
    """Load the demo data (regions, one user per role, sample reports); prints the tokens."""
    from api.cases.sla import Deadlines
    from api.demo import load_demo
    from api.migrate import upgrade

    app = _app()
    upgrade(app.config["DATABASE_URL"])
    with app.app_context(), _session(app) as session:
        logins = load_demo(
            session=session, secret_key=app.config["SECRET_KEY"],
            deadlines=Deadlines.from_config(app.config),
        )
        session.commit()
    click.echo("Demo users and their API tokens (Authorization: Bearer <token>):")
    for login in logins:
        click.echo(f"  {login.role.value:<15} {login.username:<28} {login.token}")


@main.group()
def users():
    """User accounts."""


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--area", "areas", multiple=True, help="Kemendagri code (repeatable)")
@click.option("--agency", help="Agency code, e.g. DINSOS (agency roles only)")
@click.option("--password", is_flag=True,
              help="Also set a password (asked for): at least 10 characters, not the "
                   "username, not a common password")
def users_create(username, role, areas, agency, password):
    """Create a user; the last line printed is a new API token."""
    from api.auth import service
    from api.errors import DomainError

    secret = None
    if password:
        secret = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    app = _app()
    with app.app_context(), _session(app) as session:
        try:
            user = service.create_user(
                session=session, username=username, role=Role(role), area_codes=list(areas),
                agency_code=agency, password=secret,
            )
        except DomainError as error:
            _fail(error)
        token = service.issue_token(session=session, user=user)
        session.commit()
    click.echo(f"created user {user.username} ({role}), id {user.id}")
    click.echo(token)


@main.group()
def tokens():
    """API tokens."""


@tokens.command("create")
@click.argument("username")
def tokens_create(username):
    """Issue a new API token for USERNAME (printed once)."""
    from api.auth import service

    app = _app()
    with app.app_context(), _session(app) as session:
        user = service.user_by_name(session=session, username=username)
        if user is None:
            raise click.ClickException(f"no user named {username!r}")
        token = service.issue_token(session=session, user=user)
        session.commit()
    click.echo(token)


@main.group()
def regions():
    """Administrative regions."""


@regions.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def regions_import(path):
    """Import a Kemendagri code list: CSV with columns code,name (codes dotted or not)."""
    from api.regions.service import RegionImportError, import_regions, read_region_file

    app = _app()
    with app.app_context(), _session(app) as session:
        try:
            result = import_regions(session=session, rows=read_region_file(path))
        except RegionImportError as error:
            raise click.ClickException(str(error)) from None
        session.commit()
    click.echo(f"{result.added} added, {result.renamed} renamed, {result.unchanged} unchanged")


@main.group()
def audit():
    """The audit trail."""


@audit.command("verify")
def audit_verify():
    """Check the audit chain; exits 1 naming the first event that was changed, removed or
    added."""
    from api.audit.chain import verify

    app = _app()
    with app.app_context(), _session(app) as session:
        verdict = verify(session)
    if verdict.first_bad_id is not None:
        click.echo(f"audit chain broken at event {verdict.first_bad_id}: {verdict.reason} "
                   f"({verdict.checked} events before it are intact)", err=True)
        sys.exit(1)
    click.echo(f"audit chain intact: {verdict.checked} events")


@main.group()
def keys():
    """Encryption keys of identity numbers (see api/crypto.py)."""


@keys.command("rotate")
def keys_rotate():
    """Re-encrypt every stored NIK and KK number with the first of LINDUNG_DATA_KEYS."""
    from sqlalchemy import select
    from sqlalchemy.orm.attributes import flag_modified

    from api.children.models import Child, Household

    app = _app()
    with app.app_context(), _session(app) as session:
        count = 0
        for model, column in ((Child, "nik"), (Household, "kk_number")):
            for row in session.scalars(select(model).where(getattr(model, column).is_not(None))):
                flag_modified(row, column)
                count += 1
        session.commit()
    click.echo(f"re-encrypted {count} identity numbers")


@main.group()
def openapi():
    """The OpenAPI document."""


@openapi.command("write")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path),
                default=Path("openapi/openapi.json"))
def openapi_write(path):
    """Write the OpenAPI document to PATH (default openapi/openapi.json)."""
    path.write_text(openapi_document(_app()))
    click.echo(f"wrote {path}")


def openapi_document(app) -> str:
    with app.app_context():
        spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _fail(error) -> None:
    click.echo(f"error: {error.detail}", err=True)
    for field, messages in (error.errors or {}).items():
        for message in messages:
            click.echo(f"  {field}: {message}", err=True)
    sys.exit(2)
