"""GET /health, /health/live and /health/ready: the probes of a load balancer or an
orchestrator. No token: they tell nothing about people."""

from flask.views import MethodView

import api
from api.db import database
from api.errors import UNAVAILABLE_RETRY_AFTER_SECONDS
from api.health import service
from api.health.schemas import HealthSchema, LivenessSchema, ReadinessSchema
from api.rest import Blueprint

blp = Blueprint("health", __name__, url_prefix="/api/v1/health", description="Health")

RETRY_AFTER_HEADER = {"Retry-After": {"description": "Seconds to wait before asking again",
                                      "schema": {"type": "integer"}}}


@blp.route("")
class Health(MethodView):
    @blp.public
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="The database is unreachable",
                      headers=RETRY_AFTER_HEADER)
    @blp.doc(operationId="getHealth")
    def get(self):
        """Is the service up and its database reachable"""
        if not service.database_reachable(database().bind):
            return ({"status": "degraded", "database": "unreachable",
                     "version": api.__version__}, 503, _retry_after())
        return {"status": "ok", "database": "ok", "version": api.__version__}


@blp.route("/live")
class Liveness(MethodView):
    @blp.public
    @blp.response(200, LivenessSchema)
    @blp.doc(operationId="getLiveness")
    def get(self):
        """Is the process alive (answers without asking the database: restart it if not)"""
        return {"status": "alive", "version": api.__version__}


@blp.route("/ready")
class Readiness(MethodView):
    @blp.public
    @blp.response(200, ReadinessSchema)
    @blp.alt_response(503, schema=ReadinessSchema, headers=RETRY_AFTER_HEADER,
                      description="Not ready: the database is unreachable, or its schema is "
                                  "not the newest (the body says which)")
    @blp.doc(operationId="getReadiness")
    def get(self):
        """May the service take requests: its database is reachable and at the newest schema"""
        verdict = service.readiness(database().bind)
        body = {"status": "ready" if verdict.ready else "not_ready",
                "database": verdict.database, "schema": verdict.schema,
                "revisions": list(verdict.revisions), "version": api.__version__}
        if not verdict.ready:
            return body, 503, _retry_after()
        return body


def _retry_after() -> dict:
    return {"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)}
