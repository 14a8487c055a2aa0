"""The KLA dashboard (/app/kla): how far each kelurahan is from zero cases of violence
against children, the monthly series, SLA compliance and referral outcomes per agency, with a
CSV download of the rows (/app/kla.csv).

The figures are those of GET /stats/kla for the caller — computed by the same function
(stats/views.statistics), so supervisors and caseworkers see their areas' exact kelurahan
rows and analysts only the published kecamatan cells of stats/disclosure.py — never
recomputed here. The CSV is the API's CSV, audited as an export.

Charts are drawn by Chart.js (static/vendor/chart.js, MIT) from the figures the page carries
in data attributes, started by static/kla.js (no inline script: csp.py). Every chart has the
same figures beside it as a table, and the tables mark each band with a symbol and words as
well as a colour. There is no map: no kelurahan boundary data with a licence that allows it
is held offline, and none is made up.
"""

from flask import render_template, request
from flask_babel import gettext, lazy_gettext
from marshmallow import ValidationError
from sqlalchemy import or_, select

from api.auth.policy import Grant, Operation, suppresses_small_counts
from api.db import get_session
from api.errors import InvalidInput
from api.regions.models import Region
from api.stats import disclosure
from api.stats import views as stats_views
from api.stats.schemas import KlaCsvQuerySchema, KlaQuerySchema
from api.vocabularies.codes import RegionLevel
from api.web import forms
from api.web.i18n import label, language
from api.web.session import grant_for
from api.web.site import blp

LABELS = {
    "area": lazy_gettext("Wilayah"),
    "from": lazy_gettext("Dari tanggal"),
    "to": lazy_gettext("Sampai tanggal"),
}
# the stats service's messages about the query, as sentences (the rest: forms.sentence)
SENTENCES = (
    ("Analysts see whole months: from", lazy_gettext(
        "Analis melihat bulan utuh: %(field)s harus tanggal 1 suatu bulan.")),
    ("Analysts see whole months: to", lazy_gettext(
        "Analis melihat bulan utuh: %(field)s harus hari terakhir suatu bulan.")),
    ("Analysts see only months that have ended", lazy_gettext(
        "Analis hanya melihat bulan yang sudah berakhir: pilih %(field)s paling lambat hari "
        "terakhir bulan lalu.")),
    ("Analysts see a kecamatan or a larger area", lazy_gettext(
        "Analis melihat kecamatan atau wilayah yang lebih besar, bukan satu kelurahan.")),
    ("Must not be after to", lazy_gettext("%(field)s tidak boleh setelah tanggal akhir.")),
    ("Must not be before from", lazy_gettext("%(field)s tidak boleh sebelum tanggal awal.")),
    ("No region has this code", lazy_gettext("%(field)s tidak dikenal.")),
    ("At most", lazy_gettext("Paling banyak %(months)s bulan dalam satu tampilan.")),
)
# how far a kelurahan (analysts: a kecamatan) is from zero new violence cases: (upper bound,
# band, symbol, words); told by the symbol and the words, the colour only adds to them
BANDS = (
    (0, "zero", "✓", lazy_gettext("nol kasus")),
    (2, "near", "▲", lazy_gettext("1–2 kasus")),
    (None, "far", "✕", lazy_gettext("3 kasus atau lebih")),
)


@blp.route("/kla")
def kla():
    """The dashboard for the area and period of the form (by default the caller's first
    area, this year so far; analysts: the ended months of this year)."""
    grant = grant_for(Operation.STATS_READ)
    areas = _area_options(grant)
    asked = {name: value for name, value in request.args.items() if value.strip()}
    asked.setdefault("area", areas[0][0] if areas else "")
    asked.pop("lang", None)  # the page's language, not the CSV's
    try:
        query = KlaQuerySchema().load({**asked, "format": "json"})
        figures = stats_views.statistics(query, grant)
    except ValidationError as error:
        return _page(grant, areas, asked, errors=forms.schema_errors(error)), 422
    except InvalidInput as error:
        return _page(grant, areas, asked, errors=error.errors), 422
    return _page(grant, areas, asked, figures=figures)


@blp.route("/kla.csv")
def kla_csv():
    """The rows of the dashboard as the API's CSV (GET /stats/kla.csv), labels in the page's
    language; audited as an export."""
    grant = grant_for(Operation.STATS_READ)
    try:
        query = KlaCsvQuerySchema().load({"lang": language(), **request.args.to_dict()})
    except ValidationError as error:
        raise InvalidInput(forms.schema_errors(error)) from None
    return stats_views.statistics({**query, "format": "csv"}, grant)


def _page(grant: Grant, areas, asked: dict, *, figures=None, errors=None) -> str:
    analyst = suppresses_small_counts(grant.principal.role)
    shown = _shown(figures, analyst) if figures else None
    return render_template(
        "kla/dashboard.html", areas=areas, values=asked, labels=LABELS,
        errors=_sentences(errors or {}), figures=figures, shown=shown, analyst=analyst,
        rounding_base=disclosure.ROUNDING_BASE,
        csv_query={key: asked[key] for key in ("area", "from", "to") if key in asked})


def _shown(figures: dict, analyst: bool) -> dict:
    """The rows with their band, and the charts' figures (the same as the tables')."""
    rows = figures["kecamatan"] if analyst else figures["kelurahan"]
    rows = [{**row, "band": _band(row["violence_cases"])} for row in rows]
    monthly = figures["monthly"]
    return {
        "rows": rows,
        "bar_chart": {
            "labels": [row["name"] for row in rows],
            "series": [{"label": gettext("Kasus kekerasan baru"),
                        "values": [row["violence_cases"] for row in rows]}],
        },
        "line_chart": {
            "labels": [month["month"] for month in monthly],
            "series": [{"label": gettext("Kasus kekerasan baru"),
                        "values": [month["violence_cases"] for month in monthly]},
                       {"label": gettext("Kasus risiko stunting"),
                        "values": [month["stunting_risk_cases"] for month in monthly]}],
        },
        "level": label(RegionLevel(figures["area"]["level"])),
    }


def _band(violence_cases: int) -> dict:
    for upper, band, symbol, words in BANDS:
        if upper is None or violence_cases <= upper:
            return {"name": band, "symbol": symbol, "words": str(words)}
    raise AssertionError("the last band has no bound")


def _sentences(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The service's messages about the query beside the form's fields, in the page's
    language; what names no field of the form is shown above it."""
    shown: dict[str, list[str]] = {}
    for path, messages in errors.items():
        field = path.removesuffix("_") if path.removesuffix("_") in LABELS else forms.FORM_ERRORS
        field_label = LABELS.get(field, "")
        for message in messages:
            shown.setdefault(field, []).append(_sentence(message, field_label))
    return shown


def _sentence(message: str, field_label) -> str:
    for start, template in SENTENCES:
        if message.startswith(start):
            return gettext(template, field=str(field_label), months=disclosure.MAX_MONTHS)
    return forms.sentence(message, field_label)


def _area_options(grant: Grant) -> list[tuple[str, str]]:
    """(code, name) of the areas the caller may ask for: each of their areas, and the cities
    and kecamatan within them (every city for a caller without areas)."""
    areas = grant.principal.area_codes
    query = select(Region.code, Region.name, Region.level).order_by(Region.code)
    larger = Region.level.in_([RegionLevel.CITY, RegionLevel.DISTRICT])
    if areas:
        query = query.where(or_(Region.code.in_(areas), larger & or_(
            *(Region.code.startswith(area, autoescape=True) for area in areas))))
    else:
        query = query.where(Region.level == RegionLevel.CITY)
    return [(code, f"{name} ({label(level)})")
            for code, name, level in get_session().execute(query)]
