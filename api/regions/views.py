"""GET /regions."""

from flask.views import MethodView

from api.auth.policy import Operation
from api.regions import service
from api.regions.schemas import RegionQuerySchema, RegionSchema
from api.rest import CURSOR_PAGING_HEADERS, Blueprint

blp = Blueprint("regions", __name__, url_prefix="/api/v1/regions", description="Regions")


@blp.route("")
class Regions(MethodView):
    @blp.requires(Operation.REGION_LIST)
    @blp.arguments(RegionQuerySchema, location="query")
    @blp.response(200, RegionSchema(many=True), headers=CURSOR_PAGING_HEADERS)
    @blp.keyset(page_size=100, max_page_size=100)
    @blp.doc(operationId="listRegions")
    def get(self, query, *, grant):
        """List the regions under a parent code (kecamatan of a city, kelurahan of a kecamatan)"""
        return service.children_of(parent_code=query.get("parent"))
