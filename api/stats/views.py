"""GET /stats/kla."""

from flask import Response, request
from flask.views import MethodView

from api.auth.policy import Operation, suppresses_small_counts
from api.db import get_session, utcnow
from api.regions import calendar
from api.rest import Blueprint
from api.stats import disclosure, service
from api.stats.export import kecamatan_csv, kelurahan_csv
from api.stats.schemas import KlaCsvQuerySchema, KlaQuerySchema, KlaStatisticsSchema

blp = Blueprint("stats", __name__, url_prefix="/api/v1/stats", description="KLA statistics")

CSV_CONTENT = {"schema": {"type": "string", "description": "The kelurahan rows (analysts: the "
                                                          "kecamatan rows), a header line first"}}


@blp.route("/kla")
class KlaStatistics(MethodView):
    @blp.requires(Operation.STATS_READ)
    @blp.arguments(KlaQuerySchema, location="query")
    @blp.response(200, KlaStatisticsSchema, description="JSON, or CSV with Accept: text/csv "
                                                          "or format=csv (generated clients: "
                                                          "GET /stats/kla.csv)")
    @blp.doc(responses={200: {"content": {"text/csv": CSV_CONTENT},
                              "headers": {"Content-Disposition": "CONTENT_DISPOSITION"}}})
    @blp.doc(operationId="getKlaStatistics")
    def get(self, query, *, grant):
        """How far each area is from zero cases: counts, days since the last violence case,
        SLA compliance and referral outcomes

        Supervisors and caseworkers get exact figures per kelurahan for any days FROM-TO.
        Analysts get fixed monthly releases: whole months that have ended (FROM the first
        day of a month, TO the last day of an ended month, else 422), one row per
        kecamatan, every count rounded to a multiple of 5 (0-2 published as 0) and every
        total, row and share a sum or ratio of those published counts; a month's figures
        never change once released. The rules: docs/statistics-disclosure.md.
        """
        return statistics(query, grant)


@blp.route("/kla.csv")
class KlaStatisticsCsv(MethodView):
    @blp.requires(Operation.STATS_READ)
    @blp.arguments(KlaCsvQuerySchema, location="query")
    @blp.doc(responses={200: {
        "description": "The rows as CSV", "content": {"text/csv": CSV_CONTENT},
        "headers": {"Content-Disposition": "CONTENT_DISPOSITION"}}})
    @blp.doc(operationId="exportKlaStatisticsCsv")
    def get(self, query, *, grant):
        """The rows of GET /stats/kla as CSV: per kelurahan (analysts: per kecamatan), a
        header line first, labels in lang"""
        return statistics({**query, "format": "csv"}, grant)


def statistics(query, grant):
    """The KLA statistics GRANT's caller gets for QUERY (KlaQuerySchema, loaded): the
    figures, or a CSV Response; the web dashboard (web/kla.py) answers with the same."""
    session = get_session()
    area = service.area_for(session=session, grant=grant, code=query["area"])
    if suppresses_small_counts(grant.principal.role):
        return _for_analyst(session, area, query)
    period = service.period_of(first_day=query.get("from_"), last_day=query.get("to"),
                               zone=calendar.zone_of(area.code),
                               today=calendar.today_in(area.code))
    figures = service.kla_statistics(session=session, area=area, period=period, now=utcnow())
    figures["kelurahan"] = [{**row, "suppressed": False} for row in figures["kelurahan"]]
    if _wants_csv(query):
        return _csv(kelurahan_csv(figures["kelurahan"], lang=query["lang"]), area,
                    period.first_day, period.last_day)
    return figures


def _for_analyst(session, area, query):
    disclosure.check_area(area)
    months = disclosure.closed_months(first_day=query.get("from_"), last_day=query.get("to"),
                                      today=calendar.today_in(area.code))
    figures = service.analyst_statistics(session=session, area=area, months=months,
                                         now=utcnow())
    if _wants_csv(query):
        return _csv(kecamatan_csv(figures["kecamatan"], lang=query["lang"]), area,
                    months.first_day, months.last_day)
    return figures


def _csv(body: str, area, first_day, last_day) -> Response:
    filename = f"kla-{area.code}-{first_day}-{last_day}.csv"
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


def _wants_csv(query) -> bool:
    if "format" in query:
        return query["format"] == "csv"
    best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
    return best == "text/csv"
