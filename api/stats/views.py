"""GET /stats/kla."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Response, current_app, request
from flask.views import MethodView
from sqlalchemy import select

from api.auth.policy import Operation, suppresses_small_counts
from api.db import get_session, utcnow
from api.errors import Forbidden, InvalidInput
from api.regions.models import Region
from api.rest import Blueprint
from api.stats import disclosure, service
from api.stats.export import kelurahan_csv
from api.stats.schemas import KlaQuerySchema, KlaStatisticsSchema
from api.vocabularies.codes import RegionLevel

blp = Blueprint("stats", __name__, url_prefix="/api/v1/stats", description="KLA statistics")


@blp.route("/kla")
class KlaStatistics(MethodView):
    @blp.requires(Operation.STATS_READ)
    @blp.arguments(KlaQuerySchema, location="query")
    @blp.response(200, KlaStatisticsSchema, description="JSON, or CSV with Accept: text/csv")
    def get(self, query, *, grant):
        """How far each kelurahan of an area is from zero cases: counts, days since the last
        violence case, SLA compliance and referral outcomes"""
        session = get_session()
        area = session.scalar(select(Region).where(Region.code == query["area"]))
        if area is None:
            raise InvalidInput({"area": ["No region has this code."]})
        if grant.principal.area_codes and not service.covers(grant.principal.area_codes,
                                                             area.code):
            raise Forbidden("This area is outside your areas.")
        analyst = suppresses_small_counts(grant.principal.role)
        if analyst and area.level is RegionLevel.VILLAGE:
            raise InvalidInput({"area": ["Analysts see a kecamatan or a larger area."]})
        period = _period(query)
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


def _period(query) -> service.Period:
    """FROM-TO in the city's own calendar (default: this year so far)."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    today = datetime.now(zone).date()
    period = service.Period(query.get("from_", date(today.year, 1, 1)),
                            query.get("to", today), zone)
    if period.last_day > today:
        raise InvalidInput({"to": ["Must not be in the future."]})
    if period.first_day > period.last_day:
        raise InvalidInput({"from": ["Must not be after to."]})
    return period


def _wants_csv(query) -> bool:
    if "format" in query:
        return query["format"] == "csv"
    best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
    return best == "text/csv"
