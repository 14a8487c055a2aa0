"""GET /me."""

from flask.views import MethodView

from api.auth.policy import Operation
from api.auth.schemas import MeSchema
from api.rest import Blueprint

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The caller")


@blp.route("")
class Me(MethodView):
    @blp.requires(Operation.ME_READ)
    @blp.response(200, MeSchema)
    def get(self, *, grant):
        """Who am I: role, areas and agency of the token's user"""
        return grant.principal
