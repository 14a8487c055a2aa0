"""The report and weighing forms: form fields → the API's payloads, and the API's 422
messages → Indonesian (or English) sentences naming the field.

Form fields are named by the API's field paths ("child.birth_date"), so an error of the
schema or the service lands on the field it names. The payload is then checked by the very
schema the API uses (CaseReportSchema, MeasurementInputSchema) and filed by the same service.
"""

import re

import marshmallow as ma
from flask_babel import gettext, lazy_gettext
from werkzeug.datastructures import MultiDict

from api.errors import flatten_messages

FORM_ERRORS = "_form"  # errors of the whole form, shown above it
CSRF_FIELD = "csrf_token"


def N_(text: str) -> str:
    """Mark TEXT for the message catalog; translated where it is shown (gettext)."""
    return text


REPORT_LABELS = {
    "source": lazy_gettext("Laporan diterima melalui"),
    "category": lazy_gettext("Jenis laporan"),
    "violence_types": lazy_gettext("Bentuk kekerasan"),
    "tags": lazy_gettext("Perundungan"),
    "emergency": lazy_gettext("Anak dalam bahaya sekarang"),
    "incident_date": lazy_gettext("Tanggal kejadian"),
    "incident_place": lazy_gettext("Tempat kejadian"),
    "perpetrator_relation": lazy_gettext("Hubungan pelaku dengan anak"),
    "description": lazy_gettext("Apa yang terjadi"),
    "village_code": lazy_gettext("Kelurahan"),
    "rw": lazy_gettext("RW"),
    "rt": lazy_gettext("RT"),
    "address": lazy_gettext("Alamat"),
    "child.name": lazy_gettext("Nama anak"),
    "child.sex": lazy_gettext("Jenis kelamin"),
    "child.birth_date": lazy_gettext("Tanggal lahir"),
    "child.age_years": lazy_gettext("Umur (tahun)"),
    "household.members_count": lazy_gettext("Jumlah anggota keluarga"),
    "household.economic_stressors": lazy_gettext("Tekanan ekonomi keluarga"),
}

MEASUREMENT_LABELS = {
    "child.name": lazy_gettext("Nama anak"),
    "child.sex": lazy_gettext("Jenis kelamin"),
    "child.birth_date": lazy_gettext("Tanggal lahir"),
    "child.village_code": lazy_gettext("Kelurahan"),
    "child.rw": lazy_gettext("RW"),
    "child.rt": lazy_gettext("RT"),
    "measured_on": lazy_gettext("Tanggal penimbangan"),
    "weight_kg": lazy_gettext("Berat badan (kg)"),
    "height_cm": lazy_gettext("Panjang / tinggi badan (cm)"),
    "position": lazy_gettext("Cara mengukur"),
    "muac_cm": lazy_gettext("Lingkar lengan atas (cm)"),
}

LIST_FIELDS = {"violence_types", "tags", "household.economic_stressors"}
INTEGER_FIELDS = {"household.members_count", "child.age_years"}
DECIMAL_FIELDS = {"weight_kg", "height_cm", "muac_cm"}
FLAG_FIELDS = {"emergency"}
# where an error the API names lands on the form
ERROR_FIELDS = {"child.age_months": "child.age_years", "child": "child.name",
                "household": "household.members_count", "child_id": "child.name"}

# the API's validation messages, as a sentence about the field (%(field)s: its label)
SENTENCES = {
    "Missing data for required field.": N_("%(field)s wajib diisi."),
    "Must not be in the future.": N_("%(field)s tidak boleh di masa depan."),
    "Not a valid date.": N_("%(field)s bukan tanggal yang benar."),
    "Must not be blank.": N_("%(field)s wajib diisi."),
    "Give either birth_date or age_months.": N_("Isi %(field)s atau umur, salah satu saja."),
    "Name at least one form of violence.": N_("Pilih paling sedikit satu %(field)s."),
    "A stunting-risk report has no forms of violence.":
        N_("Laporan risiko stunting tidak memiliki %(field)s."),
    "Give the RT/RW number (1-999).": N_("%(field)s harus berupa nomor 1–999."),
    "The person must be under 18 years old.": N_("Anak harus berumur di bawah 18 tahun."),
    "Must not be before the child was born.":
        N_("%(field)s tidak boleh sebelum anak lahir."),
    "Age in months must be 0-215 (under 18 years).": N_("%(field)s harus 0 sampai 17."),
    "Describe the child, or give child_id (not both).": N_("%(field)s wajib diisi."),
    "No kelurahan has this code.": N_("%(field)s tidak dikenal."),
    "A child of 0-60 months weighs between 0.5 and 40 kg.":
        N_("%(field)s harus antara 0,5 dan 40 kg."),
    "A child of 0-60 months measures between 35 and 140 cm.":
        N_("%(field)s harus antara 35 dan 140 cm."),
    "Unknown field.": N_("Isian tidak dikenal dikirim."),
    "Each value may appear once.": N_("%(field)s dipilih lebih dari sekali."),
    "Say why the referral is declined.": N_("%(field)s wajib diisi: mengapa rujukan ditolak?"),
    "Describe the outcome of the service.": N_("%(field)s wajib diisi: apa hasil layanannya?"),
}
NOT_A_NUMBER = N_("%(field)s harus berupa angka.")
NOT_A_CHOICE = N_("%(field)s: pilihan ini tidak dikenal.")
TOO_LONG = N_("%(field)s terlalu panjang.")
ANY_OTHER = N_("%(field)s tidak dapat diterima.")
NOT_ACCEPTED = N_("Isian ini tidak dapat diterima; periksa lagi.")
OUTSIDE_AREAS = N_("Kelurahan ini di luar wilayah Anda.")
UNDER_FIVE = N_("Hanya anak umur 0–60 bulan yang dapat ditimbang di sini.")


def sentence(message: str, label) -> str:
    """The API's MESSAGE about the field LABEL, as a sentence in the page's language."""
    template = SENTENCES.get(message)
    if not str(label) and (template is None or "%(field)s" in template):
        return gettext(NOT_ACCEPTED)  # about no field of the form
    if template is None:
        if message.startswith("Must be one of"):
            template = NOT_A_CHOICE
        elif message.startswith("Not a valid") or message.startswith("Must be a"):
            template = NOT_A_NUMBER
        elif message.startswith("Longer than") or message.startswith("Length must"):
            template = TOO_LONG
        elif "0-60 months" in message or "60 months" in message:
            template = UNDER_FIVE
        else:
            template = ANY_OTHER
    return gettext(template, field=str(label))


def field_errors(errors: dict[str, list[str]], labels: dict) -> dict[str, list[str]]:
    """{api field path: [API messages]} → {form field: [sentences]}; what names no field of
    the form is shown above it."""
    shown: dict[str, list[str]] = {}
    for path, messages in errors.items():
        field = ERROR_FIELDS.get(path, path)
        if field not in labels:
            field = FORM_ERRORS
        label = labels.get(field, "")
        shown.setdefault(field, []).extend(sentence(message, label) for message in messages)
    return shown


def payload_from(form: MultiDict, labels: dict) -> tuple[dict, dict[str, list[str]]]:
    """The nested payload the API takes, from a form of LABELS' fields, and what could not
    be read ({api field path: [API-style messages]}). Blank fields are left out; a field the
    form does not have is refused, as the API refuses an unknown field."""
    payload: dict = {}
    problems: dict[str, list[str]] = {}
    known = set(labels) | {CSRF_FIELD}
    if set(form) - known:
        problems[FORM_ERRORS] = ["Unknown field."]
    for name in labels:
        value, problem = _read(form, name)
        if problem:
            problems[name] = [problem]
        elif value is not None:
            _put(payload, name, value)
    return payload, problems


def report_payload(form: MultiDict) -> tuple[dict, dict[str, list[str]]]:
    """A case report from the report form (the child's age is asked in years)."""
    payload, problems = payload_from(form, REPORT_LABELS)
    child = payload.get("child")
    if child is not None and "age_years" in child:
        child["age_months"] = child.pop("age_years") * 12
    return payload, problems


def measurement_payload(form: MultiDict) -> tuple[dict, dict[str, list[str]]]:
    """A posyandu measurement from the weighing form (decimal commas accepted)."""
    return payload_from(form, MEASUREMENT_LABELS)


def schema_errors(error: ma.ValidationError) -> dict[str, list[str]]:
    """The schema's messages by dotted field path, as the API's 422 names them."""
    return flatten_messages(error.messages)


def _read(form: MultiDict, name: str):
    if name in FLAG_FIELDS:
        return name in form, None
    if name in LIST_FIELDS:
        values = [v.strip() for v in form.getlist(name) if v.strip()]
        return (values or None), None
    text = (form.get(name) or "").strip()
    if not text:
        return None, None
    if name in INTEGER_FIELDS:
        return (int(text), None) if re.fullmatch(r"[0-9]{1,3}", text) else (None, "Not a valid")
    if name in DECIMAL_FIELDS:
        # Indonesians write a decimal comma: 7,5 kg
        number = text.replace(",", ".")
        if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,2})?", number):
            return None, "Not a valid number."
        return float(number), None
    return text, None


def _put(payload: dict, path: str, value) -> None:
    *parents, leaf = path.split(".")
    for parent in parents:
        payload = payload.setdefault(parent, {})
    payload[leaf] = value
