"""The case file's words and forms: labels of its fields and filters, the actions a page
offers, the form fields → the API's payloads, and the service's refusals as sentences
(what a page showed and what changed since: case_changes.py).

The payloads are checked by the API's own schemas (CaseTriageSchema, ManualReferralSchema,
CaseTransitionSchema) in case_actions.py; nothing here decides access.
"""

from flask_babel import gettext, lazy_gettext
from werkzeug.datastructures import MultiDict

from api.auth.policy import POLICY, Operation, Principal
from api.cases.models import AWAITING_RESPONSE, Case
from api.cases.workflow import MANUAL_MOVES
from api.vocabularies.codes import (
    CaseStatus,
    Category,
    ClosureReason,
    EconomicStressor,
    IncidentPlace,
    PerpetratorRelation,
    ReferralStatus,
    RiskLevel,
    Role,
    Service,
    Sex,
    SocialProgramme,
    Source,
    ViolenceType,
)
from api.web import forms
from api.web.i18n import label

N_ = forms.N_
VERSION_FIELD = "version"  # the ETag of the case the form was opened with
SNAPSHOT_FIELD = "shown"  # the sealed snapshot of what the page showed
META_FIELDS = (VERSION_FIELD, SNAPSHOT_FIELD)

QUEUE_LABELS = {
    "status": lazy_gettext("Status"),
    "category": lazy_gettext("Jenis"),
    "risk_level": lazy_gettext("Tingkat risiko"),
    "village_code": lazy_gettext("Kelurahan"),
    "overdue": lazy_gettext("Hanya yang terlambat"),
    "needs_attention": lazy_gettext("Hanya yang perlu perhatian"),
    "q": lazy_gettext("Cari nomor kasus atau nama anak"),
}

TRIAGE_LABELS = {
    "risk_level": lazy_gettext("Tingkat risiko"),
    "emergency": lazy_gettext("Darurat: anak dalam bahaya sekarang"),
    "assigned_to": lazy_gettext("Petugas yang menangani"),
    "note": lazy_gettext("Catatan triase"),
}
REFERRAL_LABELS = {
    "agency": lazy_gettext("Dinas"),
    "service": lazy_gettext("Layanan"),
    "due_in_hours": lazy_gettext("Harus diterima dalam (jam)"),
    "note": lazy_gettext("Catatan rujukan"),
}
TRANSITION_LABELS = {
    "to": lazy_gettext("Status baru"),
    "reason": lazy_gettext("Alasan"),
    "note": lazy_gettext("Catatan"),
}
DUPLICATE_LABELS = {
    "other_case_id": lazy_gettext("Kasus lain"),
    "decision": lazy_gettext("Keputusan"),
    "note": lazy_gettext("Catatan keputusan"),
}
ROUTE_LABELS: dict = {}
ACTION_LABELS = {"triage": TRIAGE_LABELS, "referral": REFERRAL_LABELS,
                 "transition": TRANSITION_LABELS, "duplicate": DUPLICATE_LABELS,
                 "route": ROUTE_LABELS}

# what the page may offer, each allowed by the policy (never decided here)
ACTIONS = (Operation.CASE_TRIAGE, Operation.CASE_ROUTING_PLAN_READ, Operation.CASE_ROUTE,
           Operation.REFERRAL_CREATE, Operation.CASE_TRANSITION, Operation.CASE_REOPEN,
           Operation.CASE_TIMELINE_READ, Operation.CASE_DUPLICATE_DECIDE)

DONE = {
    "triase": N_("Triase tersimpan."),
    "rujuk": N_("Kasus dirujuk sesuai rencana rujukan."),
    "rujukan": N_("Rujukan ditambahkan."),
    "status": N_("Status kasus diubah."),
    "ganda": N_("Keputusan tentang laporan ganda tersimpan."),
}

# the service's refusals (409) as sentences: their first words → the sentence
CONFLICTS = (
    ("A closed case cannot be triaged", N_("Kasus yang ditutup tidak dapat ditriase; "
                                           "kepala UPTD dapat membukanya kembali.")),
    ("Triage the case before referring", N_("Triase kasus ini sebelum merujuknya.")),
    ("A closed case cannot be referred", N_("Kasus yang ditutup tidak dapat dirujuk.")),
    ("The routing rules propose no referral", N_("Aturan rujukan tidak mengusulkan rujukan "
                                                 "untuk kasus ini: tambahkan rujukan manual.")),
    ("An open referral to", N_("Rujukan terbuka ke dinas dan layanan ini sudah ada.")),
    ("referral(s) of this case are still open", N_(
        "Masih ada rujukan terbuka: batalkan atau tunggu sampai dinas menyelesaikannya.")),
    ("This case was never triaged", N_("Kasus ini belum pernah ditriase: buka kembali "
                                       "sebagai dilaporkan.")),
    ("cannot move to", N_("Perubahan status ini tidak diizinkan dari status sekarang.")),
    ("does not offer", N_("Dinas ini tidak menyediakan layanan tersebut.")),
)
CONFLICT_OTHERWISE = N_("Tindakan ini tidak dapat dilakukan pada kasus ini sekarang.")

# the service's 422 messages that forms.sentence does not know, by words they contain
SENTENCES = {
    "does not offer": N_("Dinas ini tidak menyediakan layanan tersebut."),
    "Not a caseworker of this case's area.": N_("Pilih petugas dari wilayah kasus ini."),
    "No agency has this code.": N_("Pilih dinas dari daftar."),
    "Closing needs a closure reason": N_("Pilih alasan penutupan."),
    "Not a possible duplicate": N_("Kasus ini bukan kemungkinan laporan ganda dari kasus ini."),
}

EVENTS = {
    "reported": N_("Dilaporkan"),
    "corrected": N_("Data dikoreksi"),
    "triaged": N_("Ditriase"),
    "status_changed": N_("Status berubah"),
    "routed": N_("Dirujuk sesuai aturan"),
    "referred_by_hand": N_("Dirujuk manual"),
    "referral_created": N_("Rujukan dibuat"),
    "referral_accepted": N_("Rujukan diterima dinas"),
    "referral_declined": N_("Rujukan ditolak dinas"),
    "referral_in_progress": N_("Rujukan sedang ditangani"),
    "referral_completed": N_("Rujukan selesai"),
    "referral_cancelled": N_("Rujukan dibatalkan"),
    "duplicate_decided": N_("Keputusan laporan ganda"),
}

DUPLICATE_REASONS = {
    "same_child": N_("anak yang sama (data anak atau NIK sama)"),
    "same_child_and_village": N_("nama, tanggal lahir dan kelurahan sama"),
}

CODE_VOCABULARIES = {
    "status": CaseStatus, "closure_reason": ClosureReason, "risk_level": RiskLevel,
    "category": Category, "incident_place": IncidentPlace,
    "perpetrator_relation": PerpetratorRelation, "source": Source, "sex": Sex,
    "violence_types": ViolenceType, "receives": SocialProgramme,
    "economic_stressors": EconomicStressor, "role": Role,
}


# ---------- labels ----------

def code_label(field: str, value) -> str:
    """The label of a code of FIELD (a list of codes: joined), in the page's language."""
    if value in (None, "", []):
        return ""
    vocabulary = CODE_VOCABULARIES[field]
    if isinstance(value, list):
        return ", ".join(label(item, vocabulary) for item in value)
    return label(value, vocabulary)


def field_labels(case: dict) -> dict:
    """Labels of the coded fields of a full-view CASE (household's too)."""
    household = case.get("household") or {}
    labels = {name: code_label(name, case.get(name)) for name in
              ("closure_reason", "incident_place", "perpetrator_relation", "source",
               "violence_types")}
    labels["receives"] = code_label("receives", household.get("receives"))
    labels["economic_stressors"] = code_label("economic_stressors",
                                              household.get("economic_stressors"))
    labels["reporter_role"] = code_label("role", (case.get("reporter") or {}).get("role"))
    return labels


def referral_status_label(status: str) -> str:
    return label(status, ReferralStatus)


def event_label(kind: str) -> str:
    return gettext(EVENTS[kind]) if kind in EVENTS else kind


def event_facts(details: dict) -> str:
    """A timeline step's details in words (risk, agency and service, reason, …)."""
    facts = []
    if details.get("risk_level"):
        facts.append(label(details["risk_level"], RiskLevel))
    if details.get("emergency"):
        facts.append(gettext("darurat"))
    if details.get("agency"):
        service = details.get("service")
        facts.append(f"{details['agency']}: {label(service, Service)}" if service
                     else details["agency"])
    if details.get("rule"):
        facts.append(gettext("aturan %(rule)s", rule=details["rule"]))
    if details.get("closure_reason"):
        facts.append(label(details["closure_reason"], ClosureReason))
    for name in ("reason", "outcome"):
        if details.get(name):
            facts.append(details[name])
    if "created" in details:
        facts.append(gettext("%(number)s rujukan baru", number=details["created"]))
    return "; ".join(str(fact) for fact in facts)


def duplicate_reason(reason: str) -> str:
    return gettext(DUPLICATE_REASONS[reason]) if reason in DUPLICATE_REASONS else reason


def done_message(code: str | None) -> str | None:
    return gettext(DONE[code]) if code in DONE else None


def conflict_sentence(detail: str) -> str:
    """The service's 409 DETAIL as a sentence in the page's language."""
    for start, sentence in CONFLICTS:
        if start in detail:
            return gettext(sentence)
    return gettext(CONFLICT_OTHERWISE)


def field_errors(errors: dict[str, list[str]], labels: dict) -> dict[str, list[str]]:
    """forms.field_errors, knowing the case actions' own messages too."""
    own = {path: [gettext(sentence) for message in messages
                  for words, sentence in SENTENCES.items() if words in message]
           for path, messages in errors.items()}
    rest = {path: [message for message in messages
                   if not any(words in message for words in SENTENCES)]
            for path, messages in errors.items()}
    shown = forms.field_errors({path: m for path, m in rest.items() if m}, labels)
    for path, sentences in own.items():
        if sentences:
            field = path if path in labels else forms.FORM_ERRORS
            shown.setdefault(field, []).extend(sentences)
    return shown


# ---------- what a page offers ----------

def moves_of(status: CaseStatus, principal: Principal) -> list[dict]:
    """The status changes a caseworker asks for by hand from STATUS (cases/workflow.py),
    a reopening only when the policy lets the role reopen."""
    moves = []
    reopen = principal.role in POLICY[Operation.CASE_REOPEN]
    for (current, target), move in MANUAL_MOVES.items():
        if current is not status or (move.value == "reopen" and not reopen):
            continue
        moves.append({"to": target.value, "closing": target is CaseStatus.CLOSED,
                      "label": MOVE_LABELS[move.value](target)})
    return moves


MOVE_LABELS = {
    "close": lambda target: gettext("Tutup kasus"),
    "reopen": lambda target: gettext("Buka kembali sebagai: %(status)s",
                                     status=label(target)),
    "to_monitoring": lambda target: gettext("Pindahkan ke pemantauan"),
    "back_to_service": lambda target: gettext("Kembalikan ke layanan"),
}


def response_due(case: Case):
    """By when an agency must take the case up, while it waits for one."""
    return case.response_due_at if case.status in AWAITING_RESPONSE else None


# ---------- forms → payloads ----------

def payload_of(form: MultiDict, labels: dict, *, flags=(), integers=()
               ) -> tuple[dict, dict[str, list[str]]]:
    """The API's payload from an action's form (its version fields left out), and what
    could not be read. FLAGS: checkboxes (absent = false); INTEGERS: whole numbers."""
    fields = MultiDict([(name, value) for name, value in form.items(multi=True)
                        if name not in (*META_FIELDS, forms.CSRF_FIELD)])
    payload: dict = {}
    problems: dict[str, list[str]] = {}
    if set(fields) - set(labels):
        problems[forms.FORM_ERRORS] = ["Unknown field."]
    for name in labels:
        text = (fields.get(name) or "").strip()
        if name in flags:
            payload[name] = bool(text)
        elif not text:
            continue
        elif name in integers:
            if text.isdigit() and len(text) <= 4:
                payload[name] = int(text)
            else:
                problems[name] = ["Not a valid integer."]
        else:
            payload[name] = text
    return payload, problems
