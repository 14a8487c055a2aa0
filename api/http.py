"""Request hygiene for every endpoint: body size, media type, JSON depth, NUL in the query;
cross-origin calls (CORS) from the allowed origins; the offline docs."""

import json

from flask import request
from flask_cors import CORS
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from api import docs
from api.errors import InvalidInput

MAX_BODY_BYTES = 1024 * 1024  # a report is a few kB; nothing needs more

# what a page of an allowed origin may send and read (DESIGN §3)
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "If-Match", "If-None-Match",
                        "Idempotency-Key", "X-Request-ID"]
CORS_RESPONSE_HEADERS = ["ETag", "Location", "X-Pagination", "X-Request-ID", "Retry-After",
                         "Idempotent-Replayed"]
CORS_PREFLIGHT_MAX_AGE = 600  # seconds a browser may keep a preflight's answer


def check_body():
    """Refuse a body that is not JSON (it would read as 'every field missing') and JSON
    nested so deep that parsing it would exhaust the stack (a 500 otherwise)."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.content_length:
        return
    if request.blueprint == "web":
        return  # the web app's pages post HTML forms (api/web/)
    if not request.is_json:
        raise UnsupportedMediaType(description="Send the body as application/json.")
    try:
        json.loads(request.get_data(cache=True))
    except RecursionError:
        raise BadRequest(description="The request body is nested too deeply.") from None
    except ValueError:
        pass  # reported with its position by the argument parser


def check_query():
    """Refuse a NUL anywhere in the query string, in a parameter a view ignores too:
    PostgreSQL text cannot hold one, and the audit trail keeps the query of every read."""
    if any("\x00" in name or "\x00" in value for name, value in request.args.items(multi=True)):
        raise InvalidInput({"query": ["Must not contain NUL characters."]})


def init_app(app) -> None:
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.before_request(check_query)
    app.before_request(check_body)
    allow_cross_origin(app)
    docs.init_app(app)


def allow_cross_origin(app) -> None:
    """CORS for the API (/api/…) to pages of the origins in CORS_ORIGINS
    (LINDUNG_CORS_ORIGINS), and to no other; without any, no CORS header is ever sent.

    Tokens travel in Authorization, never in cookies, so no credentials mode: a page of
    an allowed origin must hold its user's token itself.
    """
    origins = app.config.get("CORS_ORIGINS") or []
    if not origins:
        return
    CORS(app, resources={r"/api/.*": {"origins": list(origins)}},
         allow_headers=CORS_REQUEST_HEADERS, expose_headers=CORS_RESPONSE_HEADERS,
         methods=["GET", "POST", "PUT", "PATCH", "DELETE"], max_age=CORS_PREFLIGHT_MAX_AGE,
         supports_credentials=False, always_send=False, send_wildcard=False)
