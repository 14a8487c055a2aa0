"""The API's documentation for people: / and /api/v1 lead to the Swagger UI at /api/v1/docs,
served with its scripts from the package (api/static/), no asset from another host."""

from html import escape
from pathlib import Path

from flask import Blueprint, Response, redirect, send_from_directory, url_for

STATIC = Path(__file__).resolve().parent / "static"
SWAGGER_UI_VERSION = "5.35.0"  # api/static/swagger-ui/README.md

# the page's scripts and styles are files of this host; Swagger UI sets style attributes,
# and draws the schema's images (data: URIs)
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
])

blp = Blueprint("docs", __name__)


@blp.get("/")
@blp.get("/api/v1")
@blp.get("/api/v1/")
def to_the_docs():
    """The API's home leads to its documentation."""
    return redirect(url_for("api-docs.openapi_swagger_ui"), code=302)


@blp.get("/api/v1/docs/assets/<path:filename>")
def swagger_ui_asset(filename):
    """Swagger UI's vendored files, and the script that starts it."""
    if filename == "docs.js":
        return send_from_directory(STATIC, filename, max_age=3600)
    return send_from_directory(STATIC / "swagger-ui", filename, max_age=86400)


def swagger_ui_page(*, title: str, spec_url: str) -> Response:
    """The Swagger UI page for the spec at SPEC_URL: no inline script (api/static/docs.js
    reads the spec's URL from the page), under CONTENT_SECURITY_POLICY."""
    assets = "/api/v1/docs/assets"
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css?v={SWAGGER_UI_VERSION}">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-spec-url="{escape(spec_url)}"></div>
<script src="{assets}/swagger-ui-bundle.js?v={SWAGGER_UI_VERSION}"></script>
<script src="{assets}/docs.js?v={SWAGGER_UI_VERSION}"></script>
</body>
</html>
"""
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def init_app(app) -> None:
    """Register the redirects and the assets (the page itself: api/rest.py's Api)."""
    app.register_blueprint(blp)
