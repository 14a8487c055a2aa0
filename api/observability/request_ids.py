"""The request id (DESIGN §3): the caller's X-Request-ID when sane, else one made here.

It is echoed on every answer, written in every log line of the request (api/observability/
logs.py) and stored on the request's audit event (api/audit/service.py), so one id finds a
request in the caller's logs, ours and the audit trail."""

import re
import uuid

from flask import g, has_request_context, request

HEADER = "X-Request-ID"
MAX_LENGTH = 128
# visible ASCII only: no spaces, control characters or non-ASCII, which could forge or
# split a log line, or hide a child's name in the audit trail
SANE = re.compile(rf"[\x21-\x7e]{{1,{MAX_LENGTH}}}")


def is_sane(value: str | None) -> bool:
    """True when VALUE is 1 to 128 visible ASCII characters (\\x21-\\x7e)."""
    return value is not None and SANE.fullmatch(value) is not None


def request_id() -> str:
    """The current request's id: its X-Request-ID header when sane, else a new uuid4 in hex
    (32 characters). Needs a request context; stable for the whole request."""
    if "request_id" not in g:
        given = request.headers.get(HEADER)
        g.request_id = given if is_sane(given) else uuid.uuid4().hex
    return g.request_id


def current_request_id() -> str | None:
    """The request id when inside a request, else None (a log line of the server itself)."""
    return request_id() if has_request_context() else None


def echo(response) -> None:
    """Put the request id on RESPONSE (every answer: errors and refusals too)."""
    response.headers[HEADER] = request_id()
