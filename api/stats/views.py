"""GET /stats/kla."""

from flask import Response, request
from flask.views import MethodView

from api.auth.policy import Operation, suppresses_small_counts
from api.db import get_session, utcnow
from api.regions import calendar
from api.rest import Blueprint
from api.stats import disclosure, service
from api.stats.export import kelurahan_csv
from api.stats.schemas import KlaQuerySchema, KlaStatisticsSchema

blp = Blueprint("stats", __name__, url_prefix="/api/v1/stats", description="KLA statistics")


@blp.route("/kla")
class KlaStatistics(MethodView):
    @blp.requires(Operation.STATS_READ)
    @blp.arguments(KlaQuerySchema, location="query")
    @blp.response(200, KlaStatisticsSchema, description="JSON, or CSV with Accept: text/csv")
    @blp.doc(responses={200: {"content": {"text/csv": {"schema": {
        "type": "string", "description": "The kelurahan rows, a header line first"}}}}})
    def get(self, query, *, grant):
        """How far each kelurahan of an area is from zero cases: counts, days since the last
        violence case, SLA compliance and referral outcomes"""
        session = get_session()
        analyst = suppresses_small_counts(grant.principal.role)
        area = service.area_for(session=session, grant=grant, code=query["area"])
        if analyst:
            disclosure.check_area(area)
        period = service.period_of(first_day=query.get("from_"), last_day=query.get("to"),
                                   zone=calendar.zone_of(area.code),
                                   today=calendar.today_in(area.code))
        figures = service.kla_statistics(session=session, area=area, period=period,
                                         now=utcnow())
        if analyst:
            figures = disclosure.for_analyst(figures)
        else:
            figures["kelurahan"] = [{**row, "suppressed": False} for row in figures["kelurahan"]]
        if _wants_csv(query):
            body = kelurahan_csv(figures["kelurahan"], lang=query["lang"])
            filename = f"kla-{area.code}-{period.first_day}-{period.last_day}.csv"
            return Response(body, mimetype="text/csv", headers={
                "Content-Disposition": f'attachment; filename="{filename}"'})
        return figures


def _wants_csv(query) -> bool:
    if "format" in query:
        return query["format"] == "csv"
    best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
    return best == "text/csv"
