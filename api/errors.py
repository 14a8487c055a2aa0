"""Problem details (RFC 9457) for every error the API returns, and the domain errors."""

import logging

import marshmallow as ma
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the domain refused the request; services raise these, never HTTP errors."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, errors: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class InvalidInput(DomainError):
    status = 422
    slug = "validation-error"
    title = "The request has invalid fields"

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None):
        super().__init__(detail or "Some fields are invalid; see errors.", errors=errors)


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class PreconditionFailed(DomainError):
    status = 412
    slug = "precondition-failed"
    title = "Precondition failed"


def changed_since_read(resource: str) -> str:
    """The detail of a 412 for RESOURCE ('case', 'referral'): what happened and what to do."""
    return (f"The {resource} changed since you read it: GET it again for the current ETag, "
            "then retry with that ETag in If-Match.")


def if_match_required(resource: str, *, star: bool = False) -> str:
    """The detail of a 428 for RESOURCE: an update must name the version it was based on."""
    start = ("If-Match: * names no version" if star
             else "This update needs If-Match")
    return (f"{start}: send the ETag of the {resource} as you last read it (GET it for the "
            "current one), so that no change made since is overwritten.")


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem document."""

    type = ma.fields.String(metadata={"description": "URI naming the kind of problem"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Validation messages per field (dotted path)"},
    )


def problem(status: int, *, title: str, detail: str, slug: str | None = None, errors=None,
            headers=None):
    """A Flask response tuple carrying a problem document."""
    body = {
        "type": f"urn:lindung:problem:{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    all_headers = {"Content-Type": PROBLEM_JSON, **(headers or {})}
    return body, status, all_headers


def flatten_messages(messages, prefix: str = "") -> dict[str, list[str]]:
    """{'child': {'name': ['…']}} → {'child.name': ['…']}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_messages(value, path))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_schema"] = list(messages)
    elif isinstance(messages, list):
        for item in messages:
            flat.update(flatten_messages(item, prefix))
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def webargs_errors(messages: dict) -> dict[str, list[str]]:
    """Drop webargs' location level ('json', 'query', …) from field paths."""
    flat: dict[str, list[str]] = {}
    for location, fields in messages.items():
        for path, texts in flatten_messages(fields).items():
            key = location if path == "_schema" and location != "json" else path
            flat.setdefault(key, []).extend(texts)
    return flat


def http_problem(error: HTTPException):
    """Turn any werkzeug/flask-smorest HTTP error into a problem, keeping its headers."""
    data = getattr(error, "data", None) or {}
    headers = dict(error.get_headers())
    headers.pop("Content-Type", None)
    headers.update(data.get("headers") or {})
    status = error.code or 500
    if status == 422 and "messages" in data:
        return problem(422, slug="validation-error", title=InvalidInput.title,
                       detail="Some fields are invalid; see errors.",
                       errors=webargs_errors(data["messages"]), headers=headers)
    if status == 400 and "messages" in data:
        return problem(400, slug="unreadable-body", title="The body could not be read",
                       detail="The request body is not valid JSON.",
                       errors=webargs_errors(data["messages"]), headers=headers)
    detail = data.get("message") or error.description or error.name
    if detail == type(error).description and status in WHAT_TO_DO:
        detail = WHAT_TO_DO[status]  # werkzeug's own text says what failed, not what to do
    if status >= 500:
        detail = ("The server could not complete the request; nothing was stored. Retry "
                  "later; should it happen again, report this answer's X-Request-ID.")
    return problem(status, title=error.name, detail=detail, slug=HTTP_SLUGS.get(status),
                   headers=headers)


# problem types of the HTTP layer's own refusals that a client acts on
HTTP_SLUGS = {412: "precondition-failed", 428: "precondition-required",
              413: "body-too-large", 415: "unsupported-media-type"}
# what to do, in place of werkzeug's default texts
WHAT_TO_DO = {
    404: "Nothing is at this URL: check the path against the API's documentation "
         "(/api/v1/docs).",
    405: "This URL does not answer this method; the Allow header lists the methods it does.",
    406: "The API answers application/json (problems: application/problem+json); accept it.",
    413: "The request body is larger than the API accepts (1 MiB); send a smaller one.",
}


def domain_problem(error: DomainError):
    return problem(error.status, slug=error.slug, title=error.title, detail=error.detail,
                   errors=error.errors)


# PostgreSQL's answers to two transactions that could not both go on: a deadlock
# (40P01) or a serialization failure (40001). Nothing of the request was stored.
COLLISION_STATES = {"40P01", "40001"}


def is_collision(error: BaseException) -> bool:
    """True when ERROR is a deadlock or serialization failure the client may retry."""
    return (isinstance(error, DBAPIError)
            and getattr(error.orig, "sqlstate", None) in COLLISION_STATES)


def collision_problem():
    """409: the request met a concurrent change; nothing was stored; read again, retry."""
    return problem(409, slug="concurrent-change", title="Concurrent change",
                   detail="Another change of the same records was being made at the same "
                          "moment; nothing was stored. Read the resource again and retry.",
                   headers={"Retry-After": "1"})


# Seconds a client waits before retrying while the database cannot be reached: long enough
# for a restart or failover of PostgreSQL to finish, short enough for a person waiting.
UNAVAILABLE_RETRY_AFTER_SECONDS = 5


def is_unavailable(error: BaseException) -> bool:
    """True when ERROR says the database could not be reached or used at all (connection
    refused or lost, SQLite locked past its busy timeout, no pooled connection free): the
    request stored nothing and may be retried; the pool reconnects by itself."""
    if isinstance(error, PoolTimeout):
        return True
    return (isinstance(error, DBAPIError) and not is_collision(error)
            and (error.connection_invalidated or isinstance(error, OperationalError)))


def unavailable_problem():
    """503: the database is out of reach for now; nothing was stored; retry after a while."""
    return problem(503, slug="database-unavailable", title="Service unavailable",
                   detail="The database cannot be reached at the moment; nothing was stored. "
                          "Retry later.",
                   headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)})


def unexpected_problem(error: Exception):
    # an after-request hook's failure arrives wrapped in a 500 (Flask's handle_exception)
    cause = getattr(error, "original_exception", None) or error
    if is_unavailable(cause):
        log.warning("database unavailable: %s", type(cause).__name__)
        return unavailable_problem()
    if isinstance(error, HTTPException):
        return http_problem(error)
    if is_collision(error):
        log.warning("concurrent change: %s", error.orig.sqlstate)
        return collision_problem()
    log.exception("unhandled error", exc_info=error)
    return http_problem(InternalServerError())


def init_app(app) -> None:
    app.register_error_handler(DomainError, domain_problem)
    app.register_error_handler(Exception, unexpected_problem)
