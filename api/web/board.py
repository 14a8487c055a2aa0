"""The agencies' referral board (/app/rujukan): the referrals addressed to the officer's
agency, a column per status (pending, accepted, in progress, completed), and the agency's
moves on each as plain form posts — accept, decline with a reason, start, complete with an
outcome.

Read and moved through the same services, policy and audit as GET /referrals and
POST /referrals/{id}/transitions. A referral is shown in the agency view only (never the
reporter, the narrative or the perpetrator: AgencyCaseViewSchema). Each form carries the
ETag the API would give the referral (referrals/views.etag_data); a move whose referral
changed since the board was opened is not made, and the page says so.
"""

from flask import flash, g, get_flashed_messages, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from marshmallow import ValidationError
from sqlalchemy import select

from api import paging
from api.audit import service as audit
from api.auth.policy import Grant, Operation, Scope
from api.db import get_session, utcnow
from api.errors import Conflict, Forbidden, InvalidInput, PreconditionFailed
from api.outbox.messages import local_time
from api.referrals import service
from api.referrals.models import Referral
from api.referrals.schemas import ReferralMoveSchema, ReferralSchema
from api.referrals.views import etag_data
from api.regions.models import Region
from api.rest import Blueprint as RestBlueprint
from api.vocabularies.codes import Category, ReferralStatus, RiskLevel, Service, Sex
from api.web import forms
from api.web.i18n import label
from api.web.session import grant_for
from api.web.site import blp

COLUMN_SIZE = 50  # referrals per column and page (keyset paging: api/paging.py)
MOVE_LABELS = {
    "to": lazy_gettext("Langkah"),
    "reason": lazy_gettext("Alasan penolakan"),
    "outcome": lazy_gettext("Hasil layanan"),
    "external_reference": lazy_gettext("Nomor di sistem dinas"),
}
BUTTONS = {
    ReferralStatus.ACCEPTED: lazy_gettext("Terima"),
    ReferralStatus.DECLINED: lazy_gettext("Tolak"),
    ReferralStatus.IN_PROGRESS: lazy_gettext("Mulai layanan"),
    ReferralStatus.COMPLETED: lazy_gettext("Selesaikan"),
}
# the agency's moves from each status, as the board offers them (referrals/workflow.py)
MOVES = {
    ReferralStatus.PENDING: (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED),
    ReferralStatus.ACCEPTED: (ReferralStatus.IN_PROGRESS, ReferralStatus.COMPLETED),
    ReferralStatus.IN_PROGRESS: (ReferralStatus.COMPLETED,),
}
DONE = {
    ReferralStatus.ACCEPTED: lazy_gettext("Rujukan %(reference)s diterima."),
    ReferralStatus.DECLINED: lazy_gettext("Rujukan %(reference)s ditolak."),
    ReferralStatus.IN_PROGRESS: lazy_gettext("Layanan untuk %(reference)s dimulai."),
    ReferralStatus.COMPLETED: lazy_gettext("Rujukan %(reference)s selesai."),
}
NOT_NOW = lazy_gettext("Langkah ini tidak dapat dilakukan: rujukan %(reference)s sekarang "
                       "%(status)s.")
CHANGED = lazy_gettext("Rujukan %(reference)s sudah berubah sejak Anda membukanya: sekarang "
                       "%(status)s. Tidak ada yang diubah; periksa lagi lalu pilih langkahnya.")


@blp.route("/rujukan")
def referral_board():
    """The board: the agency's referrals by status, each column paged by its own key."""
    return _board(_board_grant(Operation.REFERRAL_LIST))


@blp.route("/rujukan/<uuid:referral_id>/langkah", methods=["POST"])
def move_referral(referral_id):
    """One move of the agency on a referral, if the referral is as the board showed it."""
    grant = _board_grant(Operation.REFERRAL_TRANSITION)
    session = get_session()
    move, problems = _move_from(request.form)
    # found (or 404) before the form is judged, as the API answers 404 before 422
    referral = service.get_referral(session=session, grant=grant, referral_id=referral_id,
                                    for_update=True)
    reference, status = referral.case.reference, referral.status
    if request.form.get("version") != version_of(referral):
        return _refused(grant, referral_id, 412, changed=gettext(
            CHANGED, reference=reference, status=label(status)))
    if problems:
        return _refused(grant, referral_id, 422, errors=problems)
    try:
        moved = service.move_referral(session=session, grant=grant, referral=referral,
                                      move=move, now=utcnow())
    except InvalidInput as error:
        return _refused(grant, referral_id, 422, errors=error.errors)
    except PreconditionFailed:  # a racing writer of its case, past the lock
        return _refused(grant, referral_id, 412, changed=gettext(
            CHANGED, reference=reference, status=label(status)))
    except Conflict:
        return _refused(grant, referral_id, 409, changed=gettext(
            NOT_NOW, reference=reference, status=label(status)))
    flash(gettext(DONE[moved.status], reference=moved.case.reference))
    return redirect(url_for("web.referral_board", _anchor=f"r-{moved.id}"), code=303)


def version_of(referral: Referral) -> str:
    """The ETag GET /referrals/{id} gives REFERRAL for the caller: a form's version."""
    return RestBlueprint.etag_of(etag_data(referral))


def _board_grant(operation: Operation) -> Grant:
    """The grant for OPERATION; the board is the agencies' page (their AGENCY scope): the
    case side follows referrals in the case file."""
    grant = grant_for(operation)
    if grant.scope is not Scope.AGENCY:
        raise Forbidden("The referral board is the agencies' page.")
    return grant


def _move_from(form) -> tuple[dict, dict[str, list[str]]]:
    """The API's transition payload from a board form, checked by the API's schema."""
    payload = {name: form[name].strip() for name in MOVE_LABELS if form.get(name, "").strip()}
    unknown = set(form) - set(MOVE_LABELS) - {forms.CSRF_FIELD, "version"}
    problems = {forms.FORM_ERRORS: ["Unknown field."]} if unknown else {}
    try:
        return ReferralMoveSchema().load(payload), problems
    except ValidationError as error:
        return {}, {**forms.schema_errors(error), **problems}


def _refused(grant: Grant, referral_id, status: int, *, errors=None, changed=None):
    """The board again with why the move on REFERRAL_ID was not made: the API's ERRORS
    beside the card's fields (422), or a message on the card (CHANGED: 409, 412). Nothing of
    the move is kept; the board shown is a read, audited as the board's GET is."""
    session = get_session()
    session.rollback()
    card = str(referral_id)
    page = _board(grant, errors={card: forms.field_errors(errors, MOVE_LABELS)} if errors
                  else {}, changed={card: changed} if changed else {})
    audit.record(session, principal=grant.principal, action=Operation.REFERRAL_LIST.value,
                 outcome="ok", shown=g.get("audit_shown"))
    session.commit()
    g.audit_recorded = True
    return page, status


def _board(grant: Grant, *, errors=None, changed=None) -> str:
    """The board page; ERRORS ({card: {field: [sentences]}}) and CHANGED ({card: message})
    tell why a move was not made."""
    session = get_session()
    columns = []
    for column_status in service.BOARD_COLUMNS:
        query = service.board_column(grant=grant, status=column_status)
        binding = {"list": "app-rujukan", "status": column_status.value}
        cursor = request.args.get(column_status.value) or None
        try:
            page = paging.keyset_page(session, query, cursor=cursor, size=COLUMN_SIZE,
                                      owner=grant.principal.user_id, binding=binding)
        except InvalidInput:  # a cursor of another list or person: the column from its start
            cursor = None
            page = paging.keyset_page(session, query, cursor=None, size=COLUMN_SIZE,
                                      owner=grant.principal.user_id, binding=binding)
        columns.append({"status": column_status.value, "title": label(column_status),
                        "cards": _cards(page.rows), "more": page.next_cursor,
                        "paged": cursor is not None})
    return render_template(
        "board/board.html", columns=columns, errors=errors or {}, values=request.form,
        changed=changed or {}, done=get_flashed_messages(), labels=MOVE_LABELS)


def _cards(referrals: list[Referral]) -> list[dict]:
    """What each card shows: the agency view of the referral, its labels, the due time in
    its kelurahan's local time, the moves open to the agency and the version to send."""
    shown = ReferralSchema(many=True).dump(referrals)
    names = _village_names({item["case"]["village_code"] for item in shown})
    cards = []
    for referral, item in zip(referrals, shown, strict=True):
        case = item["case"]
        child = case.get("child") or {}
        village = case["village_code"]
        cards.append({
            **item,
            "service_label": label(item["service"], Service),
            "status_label": label(item["status"], ReferralStatus),
            "category_label": label(case["category"], Category),
            "risk_label": label(case.get("risk_level"), RiskLevel),
            "sex_label": label(child.get("sex"), Sex) if child.get("sex") else "",
            "village_name": names.get(village, village),
            "due": local_time(referral.due_at, village),
            "updated": local_time(referral.updated_at, village),
            "moves": [(move.value, BUTTONS[move]) for move in MOVES.get(referral.status, ())],
            "version": version_of(referral),
        })
    return cards


def _village_names(codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(get_session().execute(
        select(Region.code, Region.name).where(Region.code.in_(codes))).all())
