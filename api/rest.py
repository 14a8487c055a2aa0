"""Project layer over flask-smorest: problem+json errors, ETag on action POSTs, SQL paging."""

import http

import flask_smorest
from flask import request
from flask_smorest.pagination import Page
from flask_smorest.utils import prepare_response
from sqlalchemy import Select, func, select
from werkzeug.exceptions import PreconditionRequired

from api.auth.bearer import guard
from api.db import get_session
from api.errors import PROBLEM_JSON, ProblemSchema, http_problem

BEARER_SCHEME = "bearerAuth"


class Api(flask_smorest.Api):
    """flask-smorest's Api answering errors as RFC 9457 problems."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):
        return http_problem(error)

    def _register_responses(self):
        # the documented error bodies must carry the media type they are sent with
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Problem (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class Blueprint(flask_smorest.Blueprint):
    """Blueprint whose ETag-checked views include action POSTs (triage, transitions)."""

    METHODS_NEEDING_CHECK_ETAG = ["PUT", "PATCH", "DELETE", "POST"]

    def _check_precondition(self):
        # checked in check_etag instead, once the object is found: 404 comes before 428
        pass

    def check_etag(self, etag_data, etag_schema=None):
        """428 without If-Match (or with *: an update must name the version it read),
        412 when the version changed."""
        if not request.if_match or request.if_match.star_tag:
            raise PreconditionRequired(
                description="Send If-Match with the ETag of the version you read.")
        super().check_etag(etag_data, etag_schema)

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
        # any request may carry a query string, and api/http.py refuses a NUL in it (422)
        return self.alt_response(422, response=http.HTTPStatus(422).name)(view)

    def _document_pagination_metadata(self, spec, resp_doc):
        # the header is a JSON string, not an object a client could parse as a header
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = {
            "description": 'Paging as JSON: {"total", "total_pages", "first_page", '
                           '"last_page", "page", "previous_page", "next_page"}',
            "schema": {"type": "string"},
        }

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
