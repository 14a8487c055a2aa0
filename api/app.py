"""The application factory."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from api import config as lindung_config
from api import crypto, db, errors, http, observability
from api.audit import http as audit_http
from api.auth import limits as login_limits
from api.referrals import feed
from api.regions import calendar
from api.rest import BEARER_SCHEME, Api

SPEC_OPTIONS = {
    "info": {
        "description": "Case management for child-protection referrals: reports of violence "
                       "against children and of stunting risk, triage, and referral to the "
                       "agencies that serve them. Errors are RFC 9457 problems.",
    },
    "servers": [{"url": "/"}],
    "security": [{BEARER_SCHEME: []}],
    "components": {
        "securitySchemes": {
            BEARER_SCHEME: {"type": "http", "scheme": "bearer",
                            "description": "An opaque API token (lnd_…)"},
        }
    },
}


def create_app(config: dict | None = None, *, bind=None) -> Flask:
    """Build the app; BIND (an Engine or a test's Connection) replaces DATABASE_URL."""
    app = Flask("api")
    app.json.sort_keys = False
    app.config.update(lindung_config.from_environment())
    app.config["API_SPEC_OPTIONS"] = SPEC_OPTIONS
    app.config.update(config or {})

    crypto.configure(secret_key=app.config["SECRET_KEY"], data_keys=app.config["DATA_KEYS"],
                     lookup_key=app.config["LOOKUP_KEY"])
    calendar.configure(app.config["TIMEZONE"])
    db.init_app(app, bind=bind)
    observability.init_app(app)  # request ids, metrics
    audit_http.init_app(app)
    feed.init_app(app)  # after the audit hook, so it runs before it
    http.init_app(app)
    api = Api(app)
    errors.init_app(app)
    for blueprint in _blueprints():
        api.register_blueprint(blueprint)
    login_limits.init_app(app)
    if app.config.get("PROXY_HOPS"):
        # the client's address, not the proxy's: one address per RT head for the login
        # limits, the right client_ip on audit events (werkzeug's ProxyFix, trusting exactly
        # the configured number of hops)
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    from api import web

    app.register_blueprint(web.blp)  # after the login limits: its login form shares them
    return app


def _blueprints():
    from api.agencies.views import blp as agencies
    from api.audit.views import blp as audit
    from api.auth.views import blp as me
    from api.cases.views import blp as cases
    from api.children.views import blp as children
    from api.health.views import blp as health
    from api.referrals.views import blp as referrals
    from api.regions.views import blp as regions
    from api.stats.views import blp as stats
    from api.vocabularies.views import blp as vocabularies

    return [health, vocabularies, me, regions, agencies, cases, referrals, children, stats,
            audit]
