"""/agencies."""

from flask.views import MethodView

from api.agencies import service
from api.agencies.schemas import (
    AgencyChangedSchema,
    AgencyCreateSchema,
    AgencyDeliverySchema,
    AgencySchema,
    AgencyUpdateSchema,
)
from api.auth.policy import Operation, covers_agency
from api.db import get_session, utcnow
from api.errors import NotFound
from api.idempotency.guard import IDEMPOTENCY_KEY_PARAMETER, idempotent
from api.outbox import service as outbox
from api.rest import CREATED_HEADERS, CURSOR_PAGING_HEADERS, Blueprint

blp = Blueprint("agencies", __name__, url_prefix="/api/v1/agencies", description="Agencies")


@blp.route("")
class Agencies(MethodView):
    @blp.requires(Operation.AGENCY_LIST)
    @blp.response(200, AgencySchema(many=True), headers=CURSOR_PAGING_HEADERS)
    @blp.keyset(page_size=100, max_page_size=100)
    @blp.doc(operationId="listAgencies")
    def get(self, *, grant):
        """The agencies cases can be referred to, with their services"""
        return service.list_agencies()

    @blp.requires(Operation.AGENCY_CREATE)
    @idempotent
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    @blp.arguments(AgencyCreateSchema)
    @blp.response(201, AgencySchema, headers=CREATED_HEADERS)
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(operationId="createAgency")
    def post(self, agency, *, grant):
        """Add an agency (admin)"""
        created = service.add_agency(session=get_session(), **agency)
        return created, 201, {"Location": f"{blp.url_prefix}/{created.code}"}


@blp.route("/<string(maxlength=32):code>")
class AgencyByCode(MethodView):
    @blp.requires(Operation.AGENCY_LIST)
    @blp.response(200, AgencySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="getAgency")
    def get(self, code, *, grant):
        """One agency and its services"""
        return service.get_agency(session=get_session(), code=code)

    @blp.requires(Operation.AGENCY_UPDATE)
    @blp.arguments(AgencyUpdateSchema)
    @blp.response(200, AgencyChangedSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(operationId="updateAgency")
    def patch(self, changes, code, *, grant):
        """Change an agency's name, services or webhook endpoint (admin)

        `webhook_url` sets where the agency's events are POSTed (null removes it: the agency
        then polls GET /referrals). `webhook_secret` signs them (Standard Webhooks); when an
        endpoint has none and none is sent, one is generated and returned in this answer
        only. The secret is never readable afterwards.
        """
        session = get_session()
        agency = service.get_agency(session=session, code=code)
        agency, generated = service.change_agency(session=session, agency=agency,
                                                  changes=changes)
        shown = {name: getattr(agency, name) for name in AgencyChangedSchema().fields
                 if name != "webhook_secret"}
        return {**shown, "webhook_secret": generated} if generated else shown


def _own_agency(grant, code: str):
    """The agency CODE if the caller's grant reaches it; NotFound otherwise (an agency's
    officer learns nothing of another agency's deliveries)."""
    if not covers_agency(grant, code):
        raise NotFound("No such agency.")
    return service.get_agency(session=get_session(), code=code)


@blp.route("/<string(maxlength=32):code>/deliveries")
class AgencyDeliveries(MethodView):
    @blp.requires(Operation.AGENCY_DELIVERY_LIST)
    @blp.response(200, AgencyDeliverySchema(many=True), headers=CURSOR_PAGING_HEADERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.keyset(page_size=50, max_page_size=100)
    @blp.doc(operationId="listAgencyDeliveries")
    def get(self, code, *, grant):
        """The webhook deliveries to an agency, newest first, with every attempt (admin, the
        agency itself)"""
        agency = _own_agency(grant, code)
        return outbox.list_deliveries(agency_code=agency.code)


@blp.route("/<string(maxlength=32):code>/deliveries/<int(min=1, max=9223372036854775807):"
           "delivery_id>/retry")
class AgencyDeliveryRetry(MethodView):
    @blp.requires(Operation.AGENCY_DELIVERY_RETRY)
    @blp.response(200, AgencyDeliverySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(operationId="retryAgencyDelivery")
    def post(self, code, delivery_id, *, grant):
        """Send a failed or waiting delivery again now, with the same webhook-id (admin, the
        agency itself); 409 when it was delivered"""
        agency = _own_agency(grant, code)
        session = get_session()
        delivery = outbox.get_delivery(session=session, agency_code=agency.code,
                                       delivery_id=delivery_id)
        return outbox.retry_delivery(session=session, delivery=delivery, now=utcnow())


@blp.route("/<string(maxlength=32):code>/webhook-test")
class AgencyWebhookTest(MethodView):
    @blp.requires(Operation.AGENCY_WEBHOOK_TEST)
    @blp.response(202, AgencyDeliverySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(operationId="testAgencyWebhook")
    def post(self, code, *, grant):
        """Send a signed `webhook.test` event to the agency's endpoint (admin, the agency
        itself); follow it in GET /agencies/{code}/deliveries"""
        agency = _own_agency(grant, code)
        return outbox.send_test_event(session=get_session(), agency=agency, now=utcnow()), 202
