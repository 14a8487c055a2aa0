"""Project layer over flask-smorest: problem+json errors, ETag on action POSTs, keyset paging
of lists, and the OpenAPI document's response headers, paging schema and typed fields."""

import functools
import http
import json

import flask_smorest
import marshmallow as ma
from flask import request, url_for
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException, PreconditionFailed, PreconditionRequired

from api import docs, paging
from api.auth.bearer import guard
from api.db import get_session
from api.errors import (
    PROBLEM_JSON,
    InvalidInput,
    ProblemSchema,
    changed_since_read,
    http_problem,
    if_match_required,
)
from api.spec import (
    ERROR_HEADERS,
    HEADER_COMPONENTS,
    PAGINATION_HEADER,
    PaginationMetadataSchema,
    ResponseHeadersPlugin,
    nullable_reference,
    typed_enum,
)

BEARER_SCHEME = "bearerAuth"
UNAVAILABLE_HEADERS = {"Retry-After": {"description": "Seconds to wait before retrying",
                                       "schema": {"type": "integer"}}}

# response headers of a 201, for @blp.response(201, …, headers=…) (components: api/spec.py)
CREATED_HEADERS = {"Location": "LOCATION"}
CREATED_WITH_ETAG_HEADERS = {"Location": "LOCATION", "ETag": "CREATED_ETAG"}
# X-Pagination of a list (Blueprint.keyset, the referral feed)
CURSOR_PAGING_HEADERS = {"X-Pagination": "PAGINATION"}
# the query parameters of paging itself: not part of what a cursor is bound to
PAGING_PARAMETERS = ("cursor", "page", "page_size", "with_total")
# rows skipped by page number beyond this are past any list's end: answered empty, unread
MAX_PAGE_OFFSET = 2**31


class Api(flask_smorest.Api):
    """flask-smorest's Api answering errors as RFC 9457 problems, with a spec that documents
    every header an answer sends (api/spec.py)."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):
        return http_problem(error)

    def _openapi_swagger_ui(self):
        # the vendored, current Swagger UI, started by a script file (api/docs.py)
        return docs.swagger_ui_page(
            title=self.spec.title,
            spec_url=url_for(f"{self._make_doc_blueprint_name()}.openapi_json"))

    def _init_spec(self, *, extra_plugins=None, **options):
        super()._init_spec(extra_plugins=[*(extra_plugins or ()), ResponseHeadersPlugin()],
                           **options)
        # after apispec's own: they fix up what it made of the field
        self.ma_plugin.converter.add_attribute_function(typed_enum)
        self.ma_plugin.converter.add_attribute_function(nullable_reference)

    def _register_responses(self):
        for name, header in HEADER_COMPONENTS.items():
            self.spec.components.header(name, header, lazy=True)
        # the documented error bodies must carry the media type they are sent with
        for status in http.HTTPStatus:
            response = {"description": status.phrase,
                        "headers": dict(ERROR_HEADERS.get(status, ERROR_HEADERS[None]))}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            if status == 503:
                response["headers"].update(UNAVAILABLE_HEADERS)
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Problem (RFC 9457)", "schema": self.ERROR_SCHEMA,
                    "headers": dict(ERROR_HEADERS[None])}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _register_pagination_header(self):
        # one X-Pagination for page and cursor paging (DESIGN §3)
        self.spec.components.schema("PaginationMetadata", schema=PaginationMetadataSchema)
        self.spec.components.header("PAGINATION", PAGINATION_HEADER, lazy=True)


class Blueprint(flask_smorest.Blueprint):
    """Blueprint whose ETag-checked views include action POSTs (triage, transitions)."""

    METHODS_NEEDING_CHECK_ETAG = ["PUT", "PATCH", "DELETE", "POST"]

    def _check_precondition(self):
        # checked in check_etag instead, once the object is found: 404 comes before 428
        pass

    def check_etag(self, etag_data, etag_schema=None):
        """428 without If-Match, or with * (RFC 9110 would let * overwrite any version; an
        update here must name the version it read), 412 when the version changed; each
        problem says what to do next."""
        resource = _resource_of_request()
        if not request.if_match or request.if_match.star_tag:
            raise PreconditionRequired(description=if_match_required(
                resource, star=bool(request.if_match and request.if_match.star_tag)))
        try:
            super().check_etag(etag_data, etag_schema)
        except HTTPException as error:
            if error.code != 412:
                raise
            raise PreconditionFailed(description=changed_since_read(resource)) from None

    def arguments(self, schema, *, location="json", **kwargs):
        """flask-smorest's arguments; a JSON body also documents the answers api/http.py gives
        before any view runs: 400 (unreadable or too deeply nested), 413 (too large) and 415
        (not JSON)."""
        parse = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return parse

        def decorator(view):
            view = parse(view)
            for status in (400, 413, 415):
                view = self.alt_response(status, response=http.HTTPStatus(status).name)(view)
            return view

        return decorator

    def _any_query(self, view):
        # any request may carry a query string, and api/http.py refuses a NUL in it (422);
        # any request may meet an unreachable database (503, api/errors.py)
        view = self.alt_response(422, response=http.HTTPStatus(422).name)(view)
        if 503 not in getattr(view, "_apidoc", {}).get("response", {}).get("responses", {}):
            view = self.alt_response(503, response=http.HTTPStatus(503).name)(view)
        return view

    def _document_pagination_metadata(self, spec, resp_doc):
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = "PAGINATION"

    def keyset(self, *, page_size: int, max_page_size: int = 100, render=None):
        """Page the Select the view returns by keyset (api/paging.py) and say so in
        X-Pagination: `page_size`, `next_cursor` (null on the last page), `total` only when
        `with_total=true` was asked (one COUNT). `page` is still taken, for clients paging by
        number (it reads and skips the rows before the page); `cursor` is the way to page.

        The cursor is bound to the caller and to the list: the endpoint, its path and every
        query parameter but the paging ones. RENDER, if given, turns the page's rows into
        what the schema dumps. Goes under @blp.response, with CURSOR_PAGING_HEADERS there.
        """
        query_schema = list_page_query_schema(page_size, max_page_size)

        def decorator(view):
            @functools.wraps(view)
            def paged(*args, **kwargs):
                *args, asked = args
                listing = view(*args, **kwargs)
                rows, metadata = _page_of(listing, asked, owner=kwargs["grant"].principal)
                return (render(rows) if render else rows), {
                    "X-Pagination": json.dumps(metadata)}

            return self.arguments(query_schema, location="query")(paged)

        return decorator

    @staticmethod
    def etag_of(etag_data) -> str:
        """The quoted ETag for ETAG_DATA, as check_etag will compute it."""
        return f'"{flask_smorest.Blueprint._generate_etag(etag_data)}"'

    def requires(self, operation):
        """Guard a view by the access policy (401, then 403) and document both answers.

        Put it first, above every other decorator: the caller is checked before the
        request is parsed, so nobody learns anything from validation errors.
        """

        def decorator(view):
            guarded = guard(operation)(view)
            guarded = self._any_query(guarded)
            guarded = self.alt_response(401, response="UNAUTHORIZED")(guarded)
            guarded = self.alt_response(403, response="FORBIDDEN")(guarded)
            guarded._apidoc.setdefault("manual_doc", {}).setdefault(
                "x-lindung-operation", operation.value
            )
            return guarded

        return decorator

    def public(self, view):
        """Mark a view as answering without a token."""
        return self._any_query(self.doc(security=[])(view))


# the resource an update names by its path parameter, for the problem texts
_RESOURCE_BY_PATH_PARAMETER = {"case_id": "case", "referral_id": "referral", "code": "agency",
                               "user_id": "user", "child_id": "child"}


def _resource_of_request() -> str:
    for parameter in request.view_args or {}:
        if parameter in _RESOURCE_BY_PATH_PARAMETER:
            return _RESOURCE_BY_PATH_PARAMETER[parameter]
    return "resource"


def list_page_query_schema(page_size: int, max_page_size: int) -> ma.Schema:
    """The paging query parameters of a list (DESIGN §3)."""
    return ma.Schema.from_dict({
        "cursor": ma.fields.String(validate=ma.validate.Length(max=2000), metadata={
            "description": "The next_cursor of the previous page (X-Pagination), with the same "
                           "filters and sort; none for the first page"}),
        "page_size": ma.fields.Integer(load_default=page_size,
                                       validate=ma.validate.Range(min=1, max=max_page_size)),
        "page": ma.fields.Integer(validate=ma.validate.Range(min=1), metadata={
            "description": "Page number, for clients paging by number (deep pages cost what "
                           "they skip): page by cursor instead"}),
        "with_total": ma.fields.Boolean(load_default=False, metadata={
            "description": "Also count the whole list (`total` in X-Pagination): one more "
                           "query, the cost of which grows with the list"}),
    }, name="ListPageQuery")()


def _page_of(listing, asked: dict, *, owner) -> tuple[list, dict]:
    """The requested page of LISTING (an ordered Select) and its X-Pagination."""
    size, number = asked["page_size"], asked.get("page")
    if number is not None and "cursor" in asked:
        raise InvalidInput({"page": ["Page by cursor or by page number, not both."]})
    offset = (number - 1) * size if number else 0
    binding = {"list": request.endpoint, "path": request.view_args,
               "query": sorted((name, value) for name, value in request.args.items(multi=True)
                               if name not in PAGING_PARAMETERS)}
    metadata = {"page_size": size}
    if offset > MAX_PAGE_OFFSET:
        rows, next_cursor, total = [], None, None
    else:
        page = paging.keyset_page(get_session(), listing, cursor=asked.get("cursor"),
                                  size=size, owner=owner.user_id, binding=binding,
                                  with_total=asked["with_total"], offset=offset)
        rows, next_cursor, total = page.rows, page.next_cursor, page.total
    metadata["next_cursor"] = next_cursor
    if number:
        metadata.update(page=number, first_page=1)
        if number > 1:
            metadata["previous_page"] = number - 1
        if next_cursor:
            metadata["next_page"] = number + 1
    if asked["with_total"]:
        metadata["total"] = total
    return rows, metadata
