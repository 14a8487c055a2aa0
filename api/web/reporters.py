"""The pages of the people who report (RT heads, teachers, posyandu cadres): the report form
(/app/lapor), the weighing form (/app/timbang) and their own reports (/app/laporan-saya).

Like a view of the API: read the form, check it with the API's schema, call the same service
with the grant the policy gives (session.grant_for), answer. A post from the page's script
(Accept: application/json, with an Idempotency-Key made when the form was opened) is answered
in JSON and replayed for a repeated key (idempotency/guard.py), so a report queued offline
and sent again is filed once.
"""

from datetime import datetime

from flask import (
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext
from marshmallow import ValidationError
from sqlalchemy import select

from api.audit.service import name_subject
from api.auth.policy import REPORTERS, Operation, Principal
from api.cases import service as case_service
from api.cases.schemas import CaseReportSchema, CaseSchema
from api.cases.sla import Deadlines
from api.children import service as child_service
from api.children.schemas import MeasurementInputSchema, MeasurementSchema
from api.db import get_session, utcnow
from api.errors import InvalidInput, problem
from api.idempotency.guard import idempotent
from api.regions import calendar
from api.regions.models import Region
from api.regions.service import within_areas
from api.vocabularies.codes import (
    CaseStatus,
    Category,
    EconomicStressor,
    HazCategory,
    IncidentPlace,
    PerpetratorRelation,
    Position,
    RegionLevel,
    Sex,
    ViolenceType,
    WazCategory,
    WhzCategory,
)
from api.web import forms
from api.web.i18n import label
from api.web.session import grant_for
from api.web.site import blp, wants_json

MY_REPORTS_SHOWN = 100  # the newest; a reporter follows up recent reports
STATIC = blp.static_folder


# ---------- report ----------

@blp.route("/lapor", methods=["GET"])
def report():
    """The report form."""
    grant = grant_for(Operation.CASE_CREATE, acting=False)
    return _report_form(grant.principal)


@blp.route("/lapor", methods=["POST"])
def file_report():
    """File the report: the confirmation page, or JSON for the page's script."""
    return _file_report(grant_for(Operation.CASE_CREATE))


@idempotent
def _file_report(grant) -> Response:
    payload, problems = forms.report_payload(request.form)
    try:
        report = CaseReportSchema().load(payload)
    except ValidationError as error:
        problems = {**forms.schema_errors(error), **problems}
    if problems:
        return _refused(problems, forms.REPORT_LABELS, _report_form, grant.principal)
    try:
        case = case_service.report_case(session=get_session(), grant=grant, report=report,
                                        deadlines=Deadlines.from_config(current_app.config),
                                        now=utcnow())
    except InvalidInput as error:
        return _refused(error.errors, forms.REPORT_LABELS, _report_form, grant.principal)
    name_subject("case", str(case.id))  # the answer may be a redirect: the audit event names it
    if wants_json():
        shown = CaseSchema().dump(case)
        answer = jsonify(id=shown["id"], reference=shown["reference"],
                         message=gettext("Laporan terkirim. Nomor laporan: %(reference)s",
                                         reference=shown["reference"]))
        answer.status_code = 201
        return answer
    return redirect(url_for("web.my_report", case_id=case.id), code=303)


@blp.route("/laporan-saya/<uuid:case_id>")
def my_report(case_id):
    """One of the person's reports, as the reporter view shows it: the confirmation."""
    grant = grant_for(Operation.CASE_READ)
    case = CaseSchema().dump(case_service.get_case(session=get_session(), grant=grant,
                                                   case_id=case_id))
    return render_template("reporters/report_filed.html", case=_shown(case, grant.principal))


def _report_form(principal: Principal, *, errors=None, values=None) -> str:
    # staff say how the report came in; a reporter's source follows from the role
    sources = [] if principal.role in REPORTERS else [
        (source.value, label(source)) for source in case_service.STAFF_SOURCES]
    return render_template(
        "reporters/report.html", villages=_villages(principal), errors=errors or {},
        sources=sources,
        values=values or {}, labels=forms.REPORT_LABELS, today=_today(principal),
        categories=list(Category), violence_types=list(ViolenceType),
        places=list(IncidentPlace), relations=list(PerpetratorRelation), sexes=list(Sex),
        stressors=list(EconomicStressor))


# ---------- weighing ----------

@blp.route("/timbang", methods=["GET"])
def weighing():
    """The weighing form of posyandu cadres."""
    grant = grant_for(Operation.MEASUREMENT_CREATE, acting=False)
    return _weighing_form(grant.principal)


@blp.route("/timbang", methods=["POST"])
def record_weighing():
    """Record the weighing: the child's categories in words, and whether a case was opened."""
    return _record_weighing(grant_for(Operation.MEASUREMENT_CREATE))


@idempotent
def _record_weighing(grant) -> Response:
    payload, problems = forms.measurement_payload(request.form)
    try:
        entry = MeasurementInputSchema().load(payload)
    except ValidationError as error:
        problems = {**forms.schema_errors(error), **problems}
    if problems:
        return _refused(problems, forms.MEASUREMENT_LABELS, _weighing_form, grant.principal)
    try:
        measurement = child_service.record_measurement(
            session=get_session(), grant=grant, entry=entry,
            deadlines=Deadlines.from_config(current_app.config), now=utcnow())
    except InvalidInput as error:
        return _refused(error.errors, forms.MEASUREMENT_LABELS, _weighing_form,
                        grant.principal)
    name_subject("measurement", str(measurement.id))
    result = _weighing_result(MeasurementSchema().dump(measurement))
    if wants_json():
        answer = jsonify(result)
        answer.status_code = 201
        return answer
    return Response(render_template("reporters/weighing_result.html", result=result),
                    status=201)


def _weighing_result(measurement: dict) -> dict:
    """What a cadre reads after a weighing: each indicator's category in words, and whether
    a stunting-risk case is open for the child now."""
    indicators = (
        (gettext("Panjang / tinggi badan menurut umur"), measurement["haz_category"],
         HazCategory),
        (gettext("Berat badan menurut umur"), measurement["waz_category"], WazCategory),
        (gettext("Berat badan menurut panjang / tinggi"), measurement["whz_category"],
         WhzCategory),
    )
    lines = [[name, label(value, vocabulary) if value else gettext("tidak dapat dinilai")]
             for name, value, vocabulary in indicators]
    opened = measurement["case_id"] is not None
    return {
        "lines": lines,
        "case_opened": opened,
        "message": gettext("Kasus risiko stunting dibuka untuk anak ini; petugas akan "
                           "menindaklanjuti.") if opened else
        gettext("Tidak ada kasus risiko stunting yang dibuka."),
    }


def _weighing_form(principal: Principal, *, errors=None, values=None) -> str:
    today = _today(principal)
    return render_template(
        "reporters/weighing.html", villages=_villages(principal), errors=errors or {},
        values=values or {"measured_on": today}, labels=forms.MEASUREMENT_LABELS, today=today,
        sexes=list(Sex), positions=list(Position))


# ---------- my reports ----------

@blp.route("/laporan-saya")
def my_reports():
    """The person's own reports, newest first, in the reporter view the API gives."""
    grant = grant_for(Operation.CASE_LIST)
    query = case_service.list_cases(grant=grant, filters={}, now=utcnow())
    cases = CaseSchema(many=True).dump(
        get_session().scalars(query.limit(MY_REPORTS_SHOWN)).all())
    return render_template("reporters/my_reports.html",
                           cases=[_shown(case, grant.principal) for case in cases])


def _shown(case: dict, principal: Principal) -> dict:
    """A reporter-view case with its labels, and days in the reporter's own calendar."""
    area = principal.area_codes[0] if principal.area_codes else None

    def day(stamp: str) -> str:
        instant = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        return calendar.local_day(instant, area).isoformat()

    return {**case, "category_label": label(case["category"], Category),
            "status_label": label(case["status"], CaseStatus),
            "created_on": day(case["created_at"]), "updated_on": day(case["updated_at"])}


# ---------- the offline shell ----------

@blp.route("/sw.js")
def service_worker():
    """The service worker, from /app/ so that its scope covers every page of the app."""
    answer = send_from_directory(STATIC, "sw.js", mimetype="text/javascript", max_age=0)
    answer.headers["Cache-Control"] = "no-cache"
    return answer


# ---------- shared ----------

def _refused(errors: dict, labels: dict, form_page, principal: Principal) -> Response:
    """422: the JSON problem with sentences per form field, or the form again with them
    beside its fields and what was typed kept."""
    shown = forms.field_errors(errors, labels)
    if wants_json():
        return _problem_response(shown)
    return Response(form_page(principal, errors=shown, values=request.form), status=422)


def _problem_response(shown: dict) -> Response:
    body, status, headers = problem(422, slug="validation-error", title=InvalidInput.title,
                                    detail=gettext("Periksa isian yang ditandai."),
                                    errors=shown)
    answer = jsonify(body)
    answer.status_code = status
    answer.headers.update(headers)
    return answer


def _villages(principal: Principal) -> list[Region]:
    """The kelurahan of the person's areas, by name."""
    return list(get_session().scalars(
        select(Region).where(Region.level == RegionLevel.VILLAGE,
                             within_areas(Region.code, principal.area_codes))
        .order_by(Region.name)))


def _today(principal: Principal) -> str:
    area = principal.area_codes[0] if principal.area_codes else None
    return calendar.today_in(area).isoformat()

