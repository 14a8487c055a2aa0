"""What the OpenAPI document says beyond flask-smorest's defaults, so that a generated client
works: the headers every answer sends, one X-Pagination schema, typed codes and nested objects.

Wired in by api/rest.py's Api. DESIGN §3: every header an answer sends is documented.
"""

import http

import marshmallow as ma
from apispec import BasePlugin

REQUEST_ID = "REQUEST_ID"
RETRY_AFTER = "RETRY_AFTER"

# the response header components, by component name
HEADER_COMPONENTS = {
    REQUEST_ID: {
        "description": "The request's id: the X-Request-ID sent (when 1-128 visible ASCII "
                       "characters), else one generated. Quote it when reporting a problem.",
        "schema": {"type": "string", "maxLength": 128},
    },
    "LOCATION": {
        "description": "Where the created resource can be read",
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "CREATED_ETAG": {
        "description": "The created resource's ETag: send it as If-Match to update it",
        "schema": {"type": "string"},
    },
    RETRY_AFTER: {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 0},
    },
    "IDEMPOTENT_REPLAYED": {
        "description": "`true` when this is the stored answer to an earlier request with the "
                       "same Idempotency-Key (nothing was done again)",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "WWW_AUTHENTICATE": {
        "description": "The authentication scheme to use: Bearer",
        "schema": {"type": "string"},
    },
    "ALLOW": {
        "description": "The methods the resource answers",
        "schema": {"type": "string"},
    },
    "CONTENT_DISPOSITION": {
        "description": "The CSV's file name: attachment; filename=\"….csv\"",
        "schema": {"type": "string"},
    },
}

PAGINATION_HEADER = {
    "description": "This page of the list, as a JSON object (see the PaginationMetadata "
                   "schema): page_size and next_cursor (null on the last page), the total "
                   "only when asked for with `with_total=true`, and the page numbers when "
                   "paging by `page`.",
    "schema": {"type": "string"},
    "x-json-schema": {"$ref": "#/components/schemas/PaginationMetadata"},
}

# headers of the error answers, by status (None: every other status)
ERROR_HEADERS = {
    None: {"X-Request-ID": REQUEST_ID},
    http.HTTPStatus.UNAUTHORIZED: {"X-Request-ID": REQUEST_ID,
                                   "WWW-Authenticate": "WWW_AUTHENTICATE"},
    http.HTTPStatus.METHOD_NOT_ALLOWED: {"X-Request-ID": REQUEST_ID, "Allow": "ALLOW"},
    **{status: {"X-Request-ID": REQUEST_ID, "Retry-After": RETRY_AFTER}
       for status in (http.HTTPStatus.CONFLICT, http.HTTPStatus.TOO_MANY_REQUESTS,
                      http.HTTPStatus.SERVICE_UNAVAILABLE)},
}


class PaginationMetadataSchema(ma.Schema):
    """X-Pagination: one shape for every list (DESIGN §3). Lists are paged by keyset
    cursor (api/paging.py): next_cursor is always there; the rest only when asked for."""

    total = ma.fields.Integer(metadata={
        "description": "Number of items in the whole list: only with `with_total=true` "
                       "(one more query, the cost of which grows with the list)"})
    page = ma.fields.Integer(metadata={"description": "This page's number (page paging)"})
    page_size = ma.fields.Integer(metadata={"description": "Items per page"})
    first_page = ma.fields.Integer(metadata={"description": "First page's number (page "
                                                            "paging)"})
    previous_page = ma.fields.Integer(metadata={"description": "Previous page's number, "
                                                               "absent on the first"})
    next_page = ma.fields.Integer(metadata={"description": "Next page's number, absent on "
                                                           "the last"})
    next_cursor = ma.fields.String(allow_none=True, metadata={
        "description": "Pass it back as `cursor`, with the same filters and sort, for the "
                       "next page; null on a list's last page (the referral feed gives one "
                       "at its end too, to poll later)"})


class ResponseHeadersPlugin(BasePlugin):
    """Documents the headers every operation's answers carry: X-Request-ID on each, and on
    success Location (201), Idempotent-Replayed (creating POSTs taking Idempotency-Key).
    Error answers get theirs from api/rest.py's response components."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            if method in ("post", "put", "patch"):
                # api/http.py refuses a body that is not JSON, or too large, before any view
                # runs: also on actions that take none
                responses = operation.setdefault("responses", {})
                for status in (400, 413, 415):
                    if status not in responses and str(status) not in responses:
                        responses[status] = http.HTTPStatus(status).name
            idempotent = any(isinstance(parameter, dict)
                             and parameter.get("name") == "Idempotency-Key"
                             for parameter in operation.get("parameters", []))
            for status, response in operation.get("responses", {}).items():
                if not isinstance(response, dict):
                    continue  # a response component: its headers are its own
                headers = response.setdefault("headers", {})
                headers.setdefault("X-Request-ID", REQUEST_ID)
                code = int(status) if str(status).isdigit() else 0
                if idempotent and 200 <= code < 300:
                    headers.setdefault("Idempotent-Replayed", "IDEMPOTENT_REPLAYED")
                if code in (409, 429, 503):
                    headers.setdefault("Retry-After", RETRY_AFTER)


def typed_enum(_converter, field, ret, **kwargs) -> dict:
    """apispec attribute function: a code field (marshmallow Enum by value) is a string with
    its enum, not an untyped enum."""
    if (isinstance(field, ma.fields.Enum) and "type" not in ret
            and all(isinstance(member.value, str) for member in field.enum)):
        return {"type": "string"}
    return {}


def nullable_reference(_converter, field, ret, **kwargs) -> dict:
    """apispec attribute function: a nullable nested object is `allOf: [its schema]` with
    `nullable`, not apispec's `anyOf` with an untyped object that clients take for a second,
    unknown type."""
    alternatives = ret.get("anyOf")
    if not alternatives or len(alternatives) != 2:
        return {}
    references = [item for item in alternatives if "$ref" in item]
    if len(references) != 1 or {"type": "object", "nullable": True} not in alternatives:
        return {}
    del ret["anyOf"]
    return {"allOf": references, "nullable": True}
