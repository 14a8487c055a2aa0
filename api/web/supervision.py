"""The supervisors' tools: the city's routing rules as a form (/app/aturan), the audit events
of the people working in their areas (/app/audit) and those people's accounts, read-only
(/app/pengguna).

Each page is GET or PUT /routing-rules, GET /audit-events or GET /users in a browser: the
same schemas, services, policy scopes and audit. The rules form sends the whole rule set, as
PUT does, validated by RoutingRuleSetSchema and referrals.service.replace_rules; nothing is
stored when any field is wrong, and each message stands beside its field. The API replaces a
rule set without If-Match (rules carry no version); the form carries a version of the set it
showed (its ETag, as api/rest.py makes ETags) and is refused, with nothing stored, when the set
changed since it was opened. The comparison is made under the lock the replacement takes
(referrals.service.rules_for_change), so of two forms sent at once on one version, one is
stored and the other refused.
"""

import json
import re
from datetime import date, timedelta

from flask import flash, get_flashed_messages, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from marshmallow import ValidationError
from sqlalchemy import or_, select

from api import paging
from api.agencies.models import Agency
from api.audit import service as audit_service
from api.audit.schemas import AuditEventSchema, AuditQuerySchema
from api.auth import service as auth_service
from api.auth.models import User
from api.auth.policy import Grant, Operation
from api.auth.schemas import UserSchema
from api.db import get_session
from api.errors import InvalidInput
from api.outbox.messages import local_time
from api.referrals import service as referral_service
from api.referrals.schemas import RoutingRuleSchema, RoutingRuleSetSchema
from api.referrals.views import rules_city
from api.regions import calendar
from api.regions.models import Region
from api.rest import Blueprint as RestBlueprint
from api.vocabularies.codes import (
    Category,
    EconomicStressor,
    RegionLevel,
    RiskLevel,
    Role,
    Service,
    ViolenceType,
)
from api.web import forms
from api.web.i18n import label
from api.web.session import grant_for
from api.web.site import blp

AUDIT_PAGE_SIZE = 50
AUDIT_FILTERS = ("action", "subject_id", "from", "to")
USERS_PAGE_SIZE = 50

# ---------- routing rules ----------

# a rule's fields on the form (named r<index>.<path>), with their labels
RULE_LABELS = {
    "id": lazy_gettext("Kode aturan"),
    "description": lazy_gettext("Uraian aturan"),
    "agency": lazy_gettext("Dinas"),
    "service": lazy_gettext("Layanan"),
    "due_in_hours": lazy_gettext("Batas waktu penerimaan (jam)"),
    "when.category": lazy_gettext("Jenis kasus"),
    "when.violence_types_any": lazy_gettext("Salah satu bentuk kekerasan"),
    "when.risk_levels": lazy_gettext("Tingkat risiko"),
    "when.child_age_years.min": lazy_gettext("Umur anak dari (tahun)"),
    "when.child_age_years.max": lazy_gettext("Umur anak sampai (tahun)"),
    "when.economic_stressors_any": lazy_gettext("Salah satu tekanan ekonomi"),
    "when.has_economic_stressor": lazy_gettext("Ada tekanan ekonomi apa pun"),
    "when.welfare_decile_max": lazy_gettext("Desil kesejahteraan paling tinggi"),
    "when.any_of": lazy_gettext("Paling sedikit satu dari pilihan syarat ini (JSON)"),
}
LIST_FIELDS = {"when.violence_types_any", "when.risk_levels", "when.economic_stressors_any"}
NUMBER_FIELDS = {"due_in_hours", "when.child_age_years.min", "when.child_age_years.max",
                 "when.welfare_decile_max"}
REMOVE = "_remove"
VERSION = "version"
RULE_FIELD = re.compile(r"^r([0-9]{1,3})\.(.+)$")
# the rules' messages (referrals/schemas.py, referrals/service.py) as sentences; the others
# are those of the report form (forms.sentence)
RULE_SENTENCES = (
    ("Lower-case letters", lazy_gettext("%(field)s: hanya huruf kecil, angka, - dan _ "
                                        "(2–64 tanda).")),
    ("The id ", lazy_gettext("%(field)s sudah dipakai aturan lain.")),
    ("No agency has the code", lazy_gettext("%(field)s tidak dikenal.")),
    ("min must not exceed max", lazy_gettext("Umur awal tidak boleh lebih dari umur akhir.")),
    ("An alternative needs", lazy_gettext("Setiap pilihan syarat perlu paling sedikit satu "
                                          "syarat.")),
    ("A rule set needs at least one rule", lazy_gettext("Perlu paling sedikit satu aturan: "
                                                        "setiap kasus harus sampai ke "
                                                        "seseorang.")),
    ("Not valid JSON", lazy_gettext("%(field)s bukan JSON yang benar.")),
)
RANGE = re.compile(r"^Must be greater than or equal to (\d+) and less than or equal to (\d+)\.$")
BETWEEN = lazy_gettext("%(field)s harus antara %(low)s dan %(high)s.")
DOES_NOT_OFFER = lazy_gettext("Dinas ini tidak memberikan layanan tersebut.")
SAVED = lazy_gettext("Aturan rujukan disimpan.")
RULES_CHANGED = lazy_gettext("Aturan rujukan sudah diubah orang lain sejak Anda membukanya. "
                             "Tidak ada yang disimpan; periksa aturan terbaru lalu ubah lagi.")


@blp.route("/aturan", methods=["GET"])
def routing_rules():
    """The city's routing rules as a form (GET /routing-rules)."""
    grant = grant_for(Operation.ROUTING_RULES_READ)
    city = _city(grant)
    rules = referral_service.current_rules(session=get_session(), city_code=city)
    return _rules_page(grant, city, _rule_values(rules), version=_version(rules))


@blp.route("/aturan", methods=["POST"])
def replace_routing_rules():
    """Replace the city's rule set with the form's (PUT /routing-rules); nothing is stored
    when a field is wrong or the set changed since the form was opened."""
    grant = grant_for(Operation.ROUTING_RULES_REPLACE)
    session = get_session()
    city = _city(grant)
    rows, payload, problems = _rules_from(request.form)
    # read under the rule set's lock: two forms opened on one version cannot both be stored
    current = referral_service.rules_for_change(session=session, city_code=city)
    if request.form.get(VERSION) != _version(current):
        return _rules_page(grant, city, _rule_values(current), version=_version(current),
                           changed=True), 412
    try:
        rules = RoutingRuleSetSchema().load(payload)
    except ValidationError as error:
        problems = {**forms.schema_errors(error), **problems}
    if not problems:
        try:
            referral_service.replace_rules(session=session, city_code=city, rules=rules)
        except InvalidInput as error:
            problems = error.errors
    if problems:
        session.rollback()
        return _rules_page(grant, city, rows, version=_version(current),
                           errors=_rule_errors(problems, rows)), 422
    flash(gettext(SAVED))
    return redirect(url_for("web.routing_rules", city=city), code=303)


def _city(grant: Grant) -> str:
    """The city whose rules (?city=, or the caller's only city), as the API decides it."""
    asked = request.values.get("city", "").strip()
    if asked and not re.fullmatch(r"[0-9]{4}", asked):
        raise InvalidInput({"city": ["A Kemendagri city code of 4 digits."]})
    return rules_city({"city": asked} if asked else {}, grant)


def _version(rules) -> str:
    """The ETag of the rule set as GET /routing-rules shows it."""
    return RestBlueprint.etag_of(RoutingRuleSchema(many=True).dump(rules))


def _rule_values(rules) -> list[dict]:
    """The stored RULES as the form's rows: {field: value or [values]}."""
    rows = []
    for rule in RoutingRuleSchema(many=True).dump(rules):
        when = dict(rule["when"])
        ages = when.pop("child_age_years", {})
        row = {"id": rule["id"], "description": rule["description"], "agency": rule["agency"],
               "service": rule["service"], "due_in_hours": str(rule["due_in_hours"]),
               "when.child_age_years.min": str(ages.get("min", "")) if ages else "",
               "when.child_age_years.max": str(ages.get("max", "")) if ages else ""}
        for name, value in when.items():
            if name == "any_of":
                row["when.any_of"] = json.dumps(value, ensure_ascii=False)
            elif isinstance(value, bool | list):
                row[f"when.{name}"] = value
            else:
                row[f"when.{name}"] = str(value)
        rows.append(row)
    return rows


def _rules_from(form) -> tuple[list[dict], list[dict], dict[str, list[str]]]:
    """The form's rows (as typed, for showing again; blank rows left out), the rule set for
    the API's schema (rows marked for removal left out) and what could not be read, by the
    rule set's paths ("3.due_in_hours")."""
    by_index: dict[int, dict] = {}
    unknown = False
    for name in form:
        match = RULE_FIELD.match(name)
        if match is None:
            unknown = unknown or name not in (forms.CSRF_FIELD, VERSION, "city")
            continue
        index, field = int(match.group(1)), match.group(2)
        if field not in RULE_LABELS and field != REMOVE:
            unknown = True
            continue
        values = [v.strip() for v in form.getlist(name) if v.strip()]
        row = by_index.setdefault(index, {})
        if field in LIST_FIELDS:
            row[field] = values
        elif field in ("when.has_economic_stressor", REMOVE):
            row[field] = bool(values)
        elif values:
            row[field] = values[0]
    # a row left blank (the form's empty row for a new rule) is no rule, and not shown again
    rows = [by_index[index] for index in sorted(by_index)
            if any(value for name, value in by_index[index].items() if name != REMOVE)]
    payload, problems = [], {}
    if unknown:
        problems[forms.FORM_ERRORS] = ["Unknown field."]
    for row in rows:
        if row.get(REMOVE):
            continue
        row["_position"] = len(payload)
        rule, rule_problems = _rule_of(row)
        payload.append(rule)
        problems.update({f"{row['_position']}.{path}": messages
                         for path, messages in rule_problems.items()})
    return rows, payload, problems


def _rule_of(row: dict) -> tuple[dict, dict[str, list[str]]]:
    """One rule of the rule set from one row of the form."""
    rule: dict = {"when": {}}
    problems: dict[str, list[str]] = {}
    for field in RULE_LABELS:
        value = row.get(field)
        if value in (None, "", [], False):
            continue
        if field in NUMBER_FIELDS:
            value = int(value) if re.fullmatch(r"[0-9]{1,4}", value) else value
        if field == "when.any_of":
            try:
                value = json.loads(value)
            except ValueError:
                problems[field] = ["Not valid JSON."]
                continue
        *parents, leaf = field.split(".")
        target = rule
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return rule, problems


def _rule_errors(problems: dict[str, list[str]], rows: list[dict]) -> dict:
    """The rule set's messages by path ("3.when.risk_levels.0") → {"r<row>.<field>":
    [sentences]} for the form's rows; what names no field is shown above the form."""
    row_of_position = {row["_position"]: index for index, row in enumerate(rows)
                       if "_position" in row}
    shown: dict[str, list[str]] = {}
    for path, messages in problems.items():
        key, field_label = forms.FORM_ERRORS, ""
        position, _, rest = path.partition(".")
        if position.isdigit() and int(position) in row_of_position:
            field = _field_of(rest)
            if field is not None:
                key, field_label = f"r{row_of_position[int(position)]}.{field}", RULE_LABELS[field]
        shown.setdefault(key, []).extend(_rule_sentence(m, field_label) for m in messages)
    return shown


def _field_of(path: str) -> str | None:
    """The form field a path inside one rule names: the longest field it starts with."""
    if path == "when":
        return "when.category"
    if path == "when.child_age_years":
        return "when.child_age_years.min"
    candidates = [f for f in RULE_LABELS if path == f or path.startswith(f + ".")]
    return max(candidates, key=len) if candidates else None


def _rule_sentence(message: str, field_label) -> str:
    for start, template in RULE_SENTENCES:
        if message.startswith(start):
            return gettext(template, field=str(field_label))
    if " does not offer " in message:
        return gettext(DOES_NOT_OFFER)
    between = RANGE.match(message)
    if between:
        return gettext(BETWEEN, field=str(field_label), low=between.group(1),
                       high=between.group(2))
    return forms.sentence(message, field_label)


def _rules_page(grant: Grant, city: str, rows: list[dict], *, version: str, errors=None,
                changed: bool = False) -> str:
    session = get_session()
    agencies = [(a.code, f"{a.code} — {a.name}")
                for a in session.scalars(select(Agency).order_by(Agency.code))]
    return render_template(
        "supervision/rules.html", city=city, city_name=_region_name(city),
        cities=_cities(grant), rows=[*rows, {}], labels=RULE_LABELS,
        errors=errors or {}, version=version, changed=changed, done=get_flashed_messages(),
        agencies=agencies, services=_options(Service), categories=_options(Category),
        violence_types=_options(ViolenceType), risk_levels=_options(RiskLevel),
        stressors=_options(EconomicStressor))


def _options(vocabulary) -> list[tuple[str, str]]:
    return [(code.value, label(code)) for code in vocabulary]


def _region_name(code: str) -> str:
    region = get_session().get(Region, code)
    return region.name if region else code


def _cities(grant: Grant) -> list[tuple[str, str]]:
    """The cities whose rules the caller may edit: those their areas lie in or cover."""
    areas = grant.principal.area_codes
    if not areas:
        return []
    touching = or_(*(Region.code.startswith(area[:4], autoescape=True) for area in areas))
    return [(code, name) for code, name in get_session().execute(
        select(Region.code, Region.name).where(Region.level == RegionLevel.CITY, touching)
        .order_by(Region.code))]


# ---------- audit events ----------

@blp.route("/audit")
def audit_events():
    """The audit events the caller may read, newest first (GET /audit-events): a
    supervisor's, of the people working in their areas."""
    grant = grant_for(Operation.AUDIT_READ)
    area = grant.principal.area_codes[0] if grant.principal.area_codes else None
    asked = {name: value.strip() for name, value in request.args.items()
             if value.strip() and name in AUDIT_FILTERS}
    try:
        filters = AuditQuerySchema().load(_audit_query(asked, area))
    except ValidationError as error:
        raise InvalidInput(forms.schema_errors(error)) from None
    page = _keyset(audit_service.events(filters, grant), grant, "app-audit", asked,
                   AUDIT_PAGE_SIZE)
    events = AuditEventSchema(many=True).dump(page.rows)
    names = _usernames({row.actor_id for row in page.rows if row.actor_id})
    for event, row in zip(events, page.rows, strict=True):
        event["local_at"] = local_time(row.at, area)
        event["actor"] = names.get(event["actor_id"], "") if event["actor_id"] else ""
    return render_template("supervision/audit.html", events=events, values=asked,
                           next_cursor=page.next_cursor)


def _audit_query(asked: dict, area: str | None) -> dict:
    """GET /audit-events' query from the filter form: its days (FROM, TO) are whole days of
    the caller's calendar (regions/calendar.py), as instants."""
    query = {name: asked[name] for name in ("action", "subject_id") if name in asked}
    for name, later in (("from", 0), ("to", 1)):
        if name in asked:
            try:
                day = date.fromisoformat(asked[name]) + timedelta(days=later)
            except ValueError:
                raise InvalidInput({name: ["Not a valid date."]}) from None
            query[name] = calendar.day_start(day, area).isoformat()
    return query


def _usernames(ids) -> dict:
    if not ids:
        return {}
    return {str(user_id): name for user_id, name in get_session().execute(
        select(User.id, User.username).where(User.id.in_(ids)))}


# ---------- users ----------

@blp.route("/pengguna")
def users():
    """The accounts the caller may list, read-only (GET /users): a supervisor's, the
    people working in their areas."""
    grant = grant_for(Operation.USER_LIST)
    page = _keyset(auth_service.list_users(grant=grant), grant, "app-pengguna", {},
                   USERS_PAGE_SIZE)
    accounts = UserSchema(many=True).dump(page.rows)
    for account in accounts:
        account["role_label"] = label(account["role"], Role)
    return render_template("supervision/users.html", accounts=accounts,
                           next_cursor=page.next_cursor)


def _keyset(query, grant: Grant, name: str, filters: dict, size: int) -> paging.Page:
    """QUERY's page after ?cursor= (api/paging.py); a cursor of another list or person
    starts from the first page."""
    binding = {"list": name, "filters": filters}
    cursor = request.args.get("cursor") or None
    try:
        return paging.keyset_page(get_session(), query, cursor=cursor, size=size,
                                  owner=grant.principal.user_id, binding=binding)
    except InvalidInput:
        return paging.keyset_page(get_session(), query, cursor=None, size=size,
                                  owner=grant.principal.user_id, binding=binding)
