"""The case file's actions, as plain HTML form posts: triage, route by the plan, add a
referral, change the status, decide a possible duplicate.

Each does what the API's action does: the same policy (session.grant_for), the case locked
for the update (cases/service.get_case(for_update=True)), the version the form was opened
with checked against the case's ETag (cases/versions.py) before anything changes, the API's
schema on the input and the same service; audited as the API's operation. A stale version
is not overwritten: the page is shown again, saying what changed since it was opened, with
what was typed kept (409). Bad input: the form again with a sentence beside the field (422);
nothing is stored either way (a request answered with an error commits nothing, db.py).
"""

import uuid
from collections.abc import Callable

from flask import current_app, g, redirect, request, url_for
from marshmallow import ValidationError

from api.audit import service as audit
from api.auth.policy import Grant, Operation
from api.cases import service as case_service
from api.cases import versions
from api.cases.duplicates import DuplicateDecision
from api.cases.models import Case
from api.cases.schemas import CaseSchema, CaseTransitionSchema, CaseTriageSchema
from api.cases.sla import Deadlines
from api.db import get_session, utcnow
from api.errors import Conflict, InvalidInput, PreconditionFailed
from api.idempotency.guard import idempotent
from api.referrals import service as referral_service
from api.referrals.schemas import ManualReferralSchema
from api.web import case_changes, case_forms, forms
from api.web.session import grant_for
from api.web.site import blp
from api.web.staff import render_case_file

Perform = Callable[[Grant, Case, dict], object]


@blp.route("/kasus/<uuid:case_id>/triase", methods=["POST"])
def triage(case_id):
    """Triage: risk level, emergency, assignee and a note (POST /cases/{id}/triage)."""
    return _act(case_id, Operation.CASE_TRIAGE, "triage", CaseTriageSchema(), _triage,
                done="triase", flags=("emergency",))


@blp.route("/kasus/<uuid:case_id>/rujuk", methods=["POST"])
def route(case_id):
    """Create the routing plan's referrals (POST /cases/{id}/route)."""
    return _act(case_id, Operation.CASE_ROUTE, "route", None, _route, done="rujuk")


@blp.route("/kasus/<uuid:case_id>/rujukan", methods=["POST"])
def add_referral(case_id):
    """Refer the case by hand to an agency's service (POST /cases/{id}/referrals)."""
    # the session's person first: the idempotency guard would otherwise look for a bearer
    # token and act as whoever that names
    grant_for(Operation.REFERRAL_CREATE)
    return _add_referral(case_id)


@idempotent  # a script's Idempotency-Key is honoured as by the API; a plain post has none
def _add_referral(case_id):
    return _act(case_id, Operation.REFERRAL_CREATE, "referral", ManualReferralSchema(),
                _refer, done="rujukan", integers=("due_in_hours",))


@blp.route("/kasus/<uuid:case_id>/status", methods=["POST"])
def transition(case_id):
    """Close with a reason, reopen (supervisors), or move between in service and monitoring
    (POST /cases/{id}/transitions)."""
    return _act(case_id, Operation.CASE_TRANSITION, "transition", CaseTransitionSchema(),
                _transition, done="status")


@blp.route("/kasus/<uuid:case_id>/ganda", methods=["POST"])
def decide_duplicate(case_id):
    """Confirm a possible duplicate, or say it is not one (POST /cases/{id}/duplicates)."""
    return _act(case_id, Operation.CASE_DUPLICATE_DECIDE, "duplicate", None, _duplicate,
                done="ganda")


# ---------- what each action does ----------

def _deadlines() -> Deadlines:
    return Deadlines.from_config(current_app.config)


def _triage(grant, case, triage):
    case_service.triage_case(session=get_session(), grant=grant, case=case, triage=triage,
                             deadlines=_deadlines(), now=utcnow())


def _route(grant, case, _nothing):
    referral_service.route_case(session=get_session(), grant=grant, case=case, now=utcnow())


def _refer(grant, case, referral):
    referral_service.refer_by_hand(
        session=get_session(), grant=grant, case=case, agency_code=referral["agency"],
        service=referral["service"], note=referral.get("note"),
        due_in_hours=referral["due_in_hours"], now=utcnow())


def _transition(grant, case, move):
    case_service.transition_case(
        session=get_session(), grant=grant, case=case, target=move["to"],
        reason=move.get("reason"), note=move.get("note"), deadlines=_deadlines(),
        now=utcnow())


def _duplicate(grant, case, decision):
    case_service.decide_duplicate(
        session=get_session(), grant=grant, case=case,
        other_case_id=decision["other_case_id"], decision=decision["decision"],
        note=decision.get("note"), now=utcnow())


# ---------- the steps every action takes ----------

def _act(case_id, operation: Operation, action: str, schema, perform: Perform, *,
         done: str, flags=(), integers=()):
    grant = grant_for(operation)
    session = get_session()
    case = case_service.get_case(session=session, grant=grant, case_id=case_id,
                                 for_update=True)
    if request.form.get(case_forms.VERSION_FIELD) != versions.etag_of(case, g.case_view):
        return _changed(case_id, grant, action)
    labels = case_forms.ACTION_LABELS[action]
    payload, problems = case_forms.payload_of(request.form, labels, flags=flags,
                                              integers=integers)
    if action == "duplicate":
        payload, problems = _duplicate_payload(payload, problems)
    elif schema is not None and not problems:
        try:
            payload = schema.load(payload)
        except ValidationError as error:
            problems = forms.schema_errors(error)
    if problems:
        return _refused(case_id, grant, action, case_forms.field_errors(problems, labels), 422)
    try:
        perform(grant, case, payload)
    except InvalidInput as error:
        return _refused(case_id, grant, action,
                        case_forms.field_errors(error.errors, labels), 422)
    except PreconditionFailed:  # a racing update won between our read and our write
        return _changed(case_id, grant, action)
    except Conflict as error:
        return _refused(case_id, grant, action,
                        {forms.FORM_ERRORS: [case_forms.conflict_sentence(error.detail)]}, 409)
    return redirect(url_for("web.case_file", case_id=case_id, selesai=done), code=303)


def _duplicate_payload(payload: dict, problems: dict) -> tuple[dict, dict]:
    """The decision's fields, checked as the API's body is (a known decision, a case id)."""
    if problems:
        return payload, problems
    try:
        payload["decision"] = DuplicateDecision(payload.get("decision"))
    except ValueError:
        problems["decision"] = ["Must be one of: confirmed, not_duplicate."]
    try:
        payload["other_case_id"] = uuid.UUID(str(payload.get("other_case_id")))
    except ValueError:
        problems["other_case_id"] = ["Not a valid UUID."]
    return payload, problems


def _fresh(case_id, grant: Grant) -> Case:
    """The case as stored, read again after what this request began is undone."""
    session = get_session()
    session.rollback()
    return case_service.get_case(session=session, grant=grant, case_id=case_id)


def _refused(case_id, grant: Grant, action: str, errors: dict, status: int):
    page = render_case_file(_fresh(case_id, grant), grant.principal, status=status,
                            action=action, errors=errors, values=request.form)
    return _audited_as_read(case_id, grant, page)


def _audited_as_read(case_id, grant: Grant, page):
    """A refused action still shows the whole case file: audited as a read of the case (as
    its GET is), in a transaction of its own since the action's was undone."""
    session = get_session()
    audit.record(session, principal=grant.principal, action=Operation.CASE_READ.value,
                 outcome="ok", subject_type="case", subject_id=str(case_id),
                 shown=g.get("audit_shown"))
    session.commit()
    g.audit_recorded = True
    return page


def _changed(case_id, grant: Grant, action: str):
    """The case file as it is now, listing what differs from what the form was opened
    with; the action's form keeps what was typed, with the current version."""
    case = _fresh(case_id, grant)
    shown = CaseSchema().dump(case)
    changes = case_changes.changes_between(case_changes.opened_snapshot(request.form),
                                         case_changes.snapshot(shown, case), shown)
    return _audited_as_read(case_id, grant, render_case_file(
        case, grant.principal, status=409, action=action, values=request.form,
        changes=changes))
