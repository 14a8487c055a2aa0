"""Request hygiene for every endpoint: body size, media type, JSON depth, NUL in the query,
offline docs."""

import json

from flask import request, send_from_directory
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from api.errors import InvalidInput

MAX_BODY_BYTES = 1024 * 1024  # a report is a few kB; nothing needs more


def check_body():
    """Refuse a body that is not JSON (it would read as 'every field missing') and JSON
    nested so deep that parsing it would exhaust the stack (a 500 otherwise)."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.content_length:
        return
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
    _serve_swagger_ui_assets(app)


def _serve_swagger_ui_assets(app) -> None:
    """Swagger UI's scripts from the installed package, so /docs works without internet."""
    from swagger_ui_bundle import swagger_ui_path

    prefix = app.config["OPENAPI_SWAGGER_UI_URL"]

    @app.route(f"{prefix}<path:filename>", endpoint="swagger_ui_assets")
    def swagger_ui_asset(filename):
        return send_from_directory(swagger_ui_path, filename, max_age=86400)
