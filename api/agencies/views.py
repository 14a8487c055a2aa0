"""/agencies."""

from flask.views import MethodView

from api.agencies import service
from api.agencies.schemas import AgencyCreateSchema, AgencySchema, AgencyUpdateSchema
from api.auth.policy import Operation
from api.db import get_session
from api.idempotency.guard import IDEMPOTENCY_KEY_PARAMETER, idempotent
from api.rest import Blueprint, SelectPage

blp = Blueprint("agencies", __name__, url_prefix="/api/v1/agencies", description="Agencies")


@blp.route("")
class Agencies(MethodView):
    @blp.requires(Operation.AGENCY_LIST)
    @blp.response(200, AgencySchema(many=True))
    @blp.paginate(SelectPage, page_size=100, max_page_size=100)
    def get(self, *, grant):
        """The agencies cases can be referred to, with their services"""
        return service.list_agencies()

    @blp.requires(Operation.AGENCY_CREATE)
    @idempotent
    @blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
    @blp.arguments(AgencyCreateSchema)
    @blp.response(201, AgencySchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, agency, *, grant):
        """Add an agency (admin)"""
        created = service.add_agency(session=get_session(), **agency)
        return created, 201, {"Location": f"{blp.url_prefix}/{created.code}"}


@blp.route("/<string(maxlength=32):code>")
class AgencyByCode(MethodView):
    @blp.requires(Operation.AGENCY_LIST)
    @blp.response(200, AgencySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, code, *, grant):
        """One agency and its services"""
        return service.get_agency(session=get_session(), code=code)

    @blp.requires(Operation.AGENCY_UPDATE)
    @blp.arguments(AgencyUpdateSchema)
    @blp.response(200, AgencySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, changes, code, *, grant):
        """Change an agency's name or services (admin)"""
        session = get_session()
        agency = service.get_agency(session=session, code=code)
        return service.change_agency(session=session, agency=agency, changes=changes)
