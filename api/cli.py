"""The `lindung` command."""

import json
import sys
from pathlib import Path

import click

from api.vocabularies.codes import Role


def _app():
    from api import create_app
    from api.db import MissingDriver

    try:
        return create_app()
    except MissingDriver as error:
        _stop(error)


def _upgrade(app) -> None:
    from api.migrate import MigrationsMissing, upgrade

    try:
        upgrade(app.config["DATABASE_URL"])
    except MigrationsMissing as error:
        _stop(error)


def _stop(error: Exception) -> None:
    """One line saying what is wrong with the installation, exit status 2."""
    click.echo(f"lindung: {error}", err=True)
    sys.exit(2)


def _session(app):
    return app.extensions["lindung.db"].session()


@click.group()
def main():
    """Lindung: case management for child-protection referrals."""


@main.command()
@click.option("--host", help="Address to listen on  [default: LINDUNG_HOST or 127.0.0.1]")
@click.option("--port", type=int, help="Port  [default: LINDUNG_PORT or 5000]")
@click.option("--workers", type=int,
              help="Worker processes  [default: LINDUNG_WORKERS or 2 × cores + 1, at most 4]")
def serve(host, port, workers):
    """Serve the API with gunicorn (api/serving/gunicorn_conf.py; docs/observability.md)."""
    # first: it prepares the metrics folder the workers share before prometheus_client loads
    from api.serving import Server, gunicorn_conf

    _upgrade_elsewhere()

    overrides = {}
    if host is not None or port is not None:
        default_host, _, default_port = gunicorn_conf.bind[0].rpartition(":")
        overrides["bind"] = [f"{host or default_host}:{port or default_port}"]
    if workers is not None:
        overrides["workers"] = workers
    address = overrides.get("bind", gunicorn_conf.bind)[0]
    base = f"http://{address}/api/v1"
    click.echo(f"Lindung serving on {base} with "
               f"{overrides.get('workers', gunicorn_conf.workers)} workers")
    click.echo(f"  docs (Swagger UI): {base}/docs   spec: {base}/openapi.json")
    Server(overrides).run()


def _upgrade_in_child() -> None:
    _upgrade(_app())


def _upgrade_elsewhere() -> None:
    """Migrate in a new interpreter, so that the serving master never imports the database
    driver: a gevent worker forked from a master that had psycopg imported would inherit its
    blocking wait, chosen at import before the worker's monkey-patching, and serve one
    request at a time. Exits as the migration did when it failed."""
    import multiprocessing

    child = multiprocessing.get_context("spawn").Process(target=_upgrade_in_child,
                                                         name="lindung-upgrade")
    child.start()
    child.join()
    if child.exitcode:
        sys.exit(child.exitcode)


@main.group()
def db():
    """Database schema."""


@db.command("upgrade")
def db_upgrade():
    """Migrate the database to the newest schema."""
    app = _app()
    _upgrade(app)
    click.echo("database is up to date")


@main.command()
def demo():
    """Load the demo data (regions, one user per role, sample reports); prints the tokens."""
    from api.cases.sla import Deadlines
    from api.demo import load_demo

    app = _app()
    _upgrade(app)
    with app.app_context(), _session(app) as session:
        logins = load_demo(
            session=session, secret_key=app.config["SECRET_KEY"],
            deadlines=Deadlines.from_config(app.config),
        )
        session.commit()
    click.echo("Demo users, their API tokens (Authorization: Bearer <token>) and passwords "
               "(web app: /app/masuk):")
    for login in logins:
        click.echo(f"  {login.role.value:<15} {login.username:<28} {login.token}  "
                   f"{login.password}")


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


@main.command()
@click.option("--once", is_flag=True, help="Scan for missed deadlines, deliver everything "
              "due, then exit.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=4,
              envvar="LINDUNG_WORKER_CONCURRENCY", show_default="4; 1 on SQLite",
              help="Deliveries in flight at once (threads).")
def worker(once, concurrency):
    """Deliver webhooks and alerts from the outbox; stops gracefully on SIGTERM or Ctrl-C."""
    import signal
    import threading

    from sqlalchemy import create_engine

    from api.cases.sla import Deadlines
    from api.db import Database
    from api.outbox.settings import OutboxSettings
    from api.outbox.worker import Worker

    app = _app()
    database = app.extensions["lindung.db"]
    if database.dialect == "postgresql":
        # a pool of its own, without a ping before every short transaction (a dropped
        # connection fails one claim or record, which the next round repeats)
        database = Database(bind=create_engine(app.config["DATABASE_URL"],
                                               hide_parameters=True,
                                               pool_size=concurrency + 2))
    deliverer = Worker(database, OutboxSettings.from_environment(),
                       Deadlines.from_config(app.config))
    with app.app_context():
        if once:
            deliverer.scan()
            click.echo(f"{deliverer.drain()} deliveries tried")
            return
        if database.dialect == "sqlite":
            concurrency = 1  # one writer: more threads would only queue for the lock
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        click.echo(f"worker {deliverer.name} delivering with {concurrency} thread(s)")
        deliverer.run(stop, concurrency=concurrency)
        click.echo("worker stopped")


@main.group()
def audit():
    """The audit trail."""


@audit.command("verify")
@click.option("--checkpoints", "sources", multiple=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="A checkpoint file, or a log holding checkpoint lines (repeatable); "
                   "default: LINDUNG_AUDIT_CHECKPOINTS")
@click.option("--show-key", is_flag=True,
              help="Also print the public key the checkpoints are signed with.")
def audit_verify(sources, show_key):
    """Check the sealed audit chain with the audit key and against the signed checkpoints;
    report the unsealed tail. Exits 1 when events were changed, removed or added."""
    from api.audit import checkpoints
    from api.audit.chain import verify

    app = _app()
    if show_key:
        click.echo(f"checkpoint signing key (Ed25519): {checkpoints.public_key_hex()}")
    try:
        points = [point for source in (sources or [checkpoints.path()]) if source
                  for point in checkpoints.read(Path(source))]
    except checkpoints.ForgedCheckpoint as error:
        click.echo(f"audit checkpoints tampered with: {error}", err=True)
        sys.exit(1)
    # a reader: on SQLite the walk must not hold the write lock the server needs
    with app.app_context(), app.extensions["lindung.db"].session(writes=False) as session:
        verdict = verify(session, checkpoints=points)
        refusals = _anonymous_refusals(session)
    if not verdict.intact:
        where = (f"event {verdict.first_bad_id} (seq {verdict.first_bad_seq})"
                 if verdict.first_bad_id is not None else f"seq {verdict.first_bad_seq}")
        click.echo(f"audit chain broken at {where}: {verdict.reason} ({verdict.checked} "
                   "sealed events before it are intact)", err=True)
        sys.exit(1)
    click.echo(f"audit chain intact: {verdict.checked} events sealed")
    click.echo(f"checkpoints: {len(points)} read, the newest matched seq "
               f"{verdict.checkpoint_seq}" if points else
               "checkpoints: none read (the deletion of the newest events cannot be shown)")
    oldest = (f", the oldest from {verdict.oldest_unsealed.isoformat(timespec='seconds')}"
              if verdict.oldest_unsealed else "")
    click.echo(f"unsealed: {verdict.unsealed} events{oldest}")
    click.echo(refusals)


def _anonymous_refusals(session) -> str:
    from datetime import timedelta

    from api.audit.service import anonymous_refusals
    from api.db import utcnow

    count, sources = anonymous_refusals(session, since=utcnow() - timedelta(days=1))
    return f"anonymous refusals (401) in the last 24 hours: {count} from {sources} sources"


@audit.command("seal")
@click.option("--follow", is_flag=True, help="Keep sealing new events until stopped.")
@click.option("--interval", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="Seconds between rounds with --follow.")
def audit_seal(follow, interval):
    """Seal the committed audit events into the hash chain and checkpoint its head. Safe in
    several processes at once: one seals at a time; without --follow it waits for its turn,
    so every event committed before it started is sealed when it ends."""
    from api.audit import sealer

    app = _app()
    sessions = app.extensions["lindung.db"].session
    if follow:
        sealer.follow(sessions, interval=interval)
    click.echo(f"sealed {sealer.seal_pending(sessions, wait=True)} audit events")


@main.group()
def stats():
    """The KLA statistics' roll-ups (api/stats/rollups.py)."""


@stats.command("rebuild")
def stats_rebuild():
    """Recompute the roll-ups from every case and referral, in one transaction. Run it when
    nothing writes (the changes committed meanwhile would be missed)."""
    from api.stats import rollups

    app = _app()
    with app.app_context(), app.extensions["lindung.db"].session() as session:
        written = rollups.rebuild(connection=session.connection())
        session.commit()
    click.echo("rebuilt: " + ", ".join(f"{rows} rows in {table}"
                                       for table, rows in written.items()))


@stats.command("fold")
def stats_fold():
    """Collapse the roll-ups' delta rows into one row per key (safe while the service runs;
    `lindung worker` does it every minute)."""
    from api.stats import rollups

    app = _app()
    with app.app_context(), app.extensions["lindung.db"].session() as session:
        folded = rollups.fold(connection=session.connection())
        session.commit()
    click.echo("folded: " + ", ".join(f"{table} {before} rows into {after}"
                                      for table, (before, after) in folded.items()))


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
    document = openapi_document(_app())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document)
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
