"""Project layer over flask-smorest: problem+json errors, ETag on action POSTs, SQL paging,
and the OpenAPI document's response headers, paging schema and typed fields."""

import http

import flask_smorest
from flask import request, url_for
from flask_smorest.pagination import Page
from flask_smorest.utils import prepare_response
from sqlalchemy import Select, func, select
from werkzeug.exceptions import HTTPException, PreconditionFailed, PreconditionRequired

from api import docs
from api.auth.bearer import guard
from api.db import get_session
from api.errors import (
    PROBLEM_JSON,
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
# X-Pagination of a list paged by cursor (page paging documents it by @blp.paginate)
CURSOR_PAGING_HEADERS = {"X-Pagination": "PAGINATION"}


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


class SelectPage(Page):
    """Pages a SQLAlchemy Select in the database: COUNT plus LIMIT/OFFSET."""

    collection: Select

    @property
    def items(self):
        if self.page_params.first_item >= self.page_params.item_count:
            return []  # past the end; also keeps absurd page numbers out of SQL
        query = self.collection.limit(self.page_params.page_size).offset(
            self.page_params.first_item
        )
        return list(get_session().scalars(query))

    @property
    def item_count(self):
        counted = select(func.count()).select_from(self.collection.order_by(None).subquery())
        return get_session().scalar(counted)
