"""Rate limits on password logins (flask-limiter): per account and per client address.

In process memory by default (the embedded set-up: one host); set LINDUNG_RATELIMIT_STORAGE_URI
to a Redis URL (redis://host:6379) so that every process on every host counts together.
"""

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

PER_ACCOUNT = "5 per minute;20 per hour"
PER_ADDRESS = "20 per minute"
LOGIN_ENDPOINT = "me.AuthTokens"


def account_of_request() -> str:
    body = request.get_json(silent=True)
    username = body.get("username") if isinstance(body, dict) else None
    return f"account:{str(username)[:64].lower()}" if username else "account:-"


def init_app(app) -> Limiter:
    """A limiter of this app's own, wrapped around the login view."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["RATE_LIMIT_STORAGE"])
    app.config.setdefault("RATELIMIT_KEY_PREFIX", app.config["RATE_LIMIT_PREFIX"])
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    limiter = Limiter(key_func=get_remote_address, app=app)
    view = app.view_functions[LOGIN_ENDPOINT]
    view = limiter.limit(PER_ACCOUNT, key_func=account_of_request, scope="login-account")(view)
    view = limiter.limit(PER_ADDRESS, scope="login-address")(view)
    app.view_functions[LOGIN_ENDPOINT] = view
    return limiter
