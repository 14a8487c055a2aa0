"""GET /health."""

import marshmallow as ma
from flask.views import MethodView
from sqlalchemy import text

import api
from api.db import get_session
from api.rest import Blueprint

blp = Blueprint("health", __name__, url_prefix="/api/v1/health", description="Health")


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ok, or degraded"})
    database = ma.fields.String(metadata={"description": "ok, or unreachable"})
    version = ma.fields.String()


@blp.route("")
class Health(MethodView):
    @blp.public
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="The database is unreachable")
    def get(self):
        """Is the service up and its database reachable"""
        try:
            get_session().execute(text("SELECT 1"))
        except Exception:  # any failure to reach the database means the same to a probe
            return {"status": "degraded", "database": "unreachable",
                    "version": api.__version__}, 503
        return {"status": "ok", "database": "ok", "version": api.__version__}
