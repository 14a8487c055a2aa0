"""/measurements and /children."""

from flask import current_app
from flask.views import MethodView

from api.auth.policy import Operation
from api.cases.sla import Deadlines
from api.children import service
from api.children.schemas import ChildSchema, MeasurementInputSchema, MeasurementSchema
from api.db import get_session, utcnow
from api.idempotency.guard import IDEMPOTENCY_KEY_PARAMETER, idempotent
from api.rest import CURSOR_PAGING_HEADERS, Blueprint

blp = Blueprint("children", __name__, url_prefix="/api/v1",
                description="Children and posyandu measurements")


@blp.route("/measurements")
class Measurements(MethodView):
    @blp.requires(Operation.MEASUREMENT_CREATE)
    @idempotent
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    @blp.arguments(MeasurementInputSchema)
    @blp.response(201, MeasurementSchema)
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(operationId="recordMeasurement")
    def post(self, entry, *, grant):
        """Record a posyandu measurement: WHO z-scores, categories, and a stunting-risk case
        when the child screens positive"""
        measurement = service.record_measurement(
            session=get_session(), grant=grant, entry=entry,
            deadlines=Deadlines.from_config(current_app.config), now=utcnow())
        return measurement, 201


@blp.route("/children/<uuid:child_id>")
class ChildById(MethodView):
    @blp.requires(Operation.CHILD_READ)
    @blp.response(200, ChildSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="getChild")
    def get(self, child_id, *, grant):
        """A child of the caller's areas, with the latest measurement (and, for caseworkers,
        the child's cases)"""
        return service.get_child(session=get_session(), grant=grant, child_id=child_id)


@blp.route("/children/<uuid:child_id>/measurements")
class ChildMeasurements(MethodView):
    @blp.requires(Operation.MEASUREMENT_LIST)
    @blp.response(200, MeasurementSchema(many=True), headers=CURSOR_PAGING_HEADERS)
    @blp.keyset(page_size=100, max_page_size=100)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="listChildMeasurements")
    def get(self, child_id, *, grant):
        """A child's measurements, oldest first"""
        child = service.get_child(session=get_session(), grant=grant, child_id=child_id)
        return service.measurements_of(child)
