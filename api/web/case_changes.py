"""What a case file's page showed, and what changed since: a short snapshot of the fields an
action's outcome depends on, sealed into the page's forms beside the case's version, so that a
form sent with a stale version can be answered with what differs (old and current values)
instead of overwriting what someone else did. And two possible duplicates side by side."""

import hashlib
import json

from flask_babel import gettext, lazy_gettext
from werkzeug.datastructures import MultiDict

from api import crypto
from api.cases.models import Case
from api.regions import calendar
from api.web.case_forms import CODE_VOCABULARIES, SNAPSHOT_FIELD
from api.web.i18n import label

# the snapshot's fields, in the order a change is listed
SNAPSHOT_LABELS = {
    "status": lazy_gettext("Status"),
    "closure_reason": lazy_gettext("Alasan penutupan"),
    "risk_level": lazy_gettext("Tingkat risiko"),
    "emergency": lazy_gettext("Darurat"),
    "assigned_to": lazy_gettext("Petugas yang menangani"),
    "needs_attention": lazy_gettext("Perlu perhatian"),
    "overdue": lazy_gettext("Terlambat"),
    "referrals": lazy_gettext("Rujukan"),
    "category": lazy_gettext("Jenis"),
    "violence_types": lazy_gettext("Bentuk kekerasan"),
    "incident_date": lazy_gettext("Tanggal kejadian"),
    "incident_place": lazy_gettext("Tempat kejadian"),
    "perpetrator_relation": lazy_gettext("Hubungan pelaku dengan anak"),
    "description": lazy_gettext("Uraian"),
    "village_code": lazy_gettext("Kelurahan"),
    "rw": lazy_gettext("RW"),
    "rt": lazy_gettext("RT"),
    "address": lazy_gettext("Alamat"),
    "child": lazy_gettext("Anak"),
    "household": lazy_gettext("Keluarga"),
    "possible_duplicates": lazy_gettext("Kemungkinan laporan ganda"),
    "updated_at": lazy_gettext("Terakhir diubah"),
}


def snapshot(shown: dict, case: Case) -> dict[str, str]:
    """What a full-view page of CASE showed that an action's outcome depends on, each as a
    short text (a long description by its digest)."""
    child = shown.get("child") or {}
    household = shown.get("household") or {}
    texts = {name: _text(shown.get(name)) for name in SNAPSHOT_LABELS
             if name not in ("child", "household", "referrals", "possible_duplicates")}
    texts["description"] = hashlib.sha256(
        (shown.get("description") or "").encode()).hexdigest()[:16]
    texts["child"] = " · ".join(_text(child.get(name)) for name in
                                ("name", "sex", "birth_date", "nik", "school", "disability"))
    texts["household"] = " · ".join(_text(household.get(name)) for name in
                                    ("kk_number", "head_name", "members_count",
                                     "welfare_decile", "receives", "economic_stressors"))
    texts["referrals"] = "; ".join(
        f"{r.agency_code} {r.service.value} {r.status.value}" for r in case.referrals)
    texts["possible_duplicates"] = ", ".join(
        link["reference"] for link in shown.get("possible_duplicates", []))
    return texts


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def seal_snapshot(texts: dict[str, str]) -> str:
    """TEXTS sealed for a hidden field (api/crypto.py: encrypted and tamper-proof), so the
    child's name and numbers a form carries back are readable by this server only."""
    return crypto.sealed(json.dumps(texts, sort_keys=True))


def opened_snapshot(form: MultiDict) -> dict[str, str] | None:
    """The snapshot a form was opened with, or None (missing or tampered)."""
    text = crypto.opened(form.get(SNAPSHOT_FIELD, ""))
    try:
        texts = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return texts if isinstance(texts, dict) else None


def changes_between(opened: dict | None, now: dict[str, str], case: dict) -> list[tuple]:
    """(label, when the page was opened, now) for each shown field that differs."""
    if opened is None:
        return []
    changed = []
    for name, text in SNAPSHOT_LABELS.items():
        before, after = opened.get(name, ""), now.get(name, "")
        if before == after:
            continue
        if name == "description":
            changed.append((text, gettext("(teks sebelumnya)"), case.get("description") or ""))
        else:
            changed.append((text, _readable(name, before), _readable(name, after)))
    return changed


def _readable(name: str, text: str) -> str:
    """A snapshot's text as a person reads it: codes as labels, flags as yes / no."""
    if text == "":
        return "—"
    if name in ("emergency", "needs_attention", "overdue"):
        return gettext("Ya") if text == "1" else gettext("Tidak")
    if name in CODE_VOCABULARIES:
        try:
            return ", ".join(label(code, CODE_VOCABULARIES[name]) for code in text.split(","))
        except ValueError:
            return text
    return text


def side_by_side(case: Case, other: Case) -> list[tuple]:
    """(label, this case's value, the other's) for comparing two possible duplicates."""
    def facts(c: Case) -> list[str]:
        return [c.reference, label(c.category), label(c.status), c.child.name,
                label(c.child.sex), c.child.birth_date.isoformat() if c.child.birth_date
                else "", c.child.nik or "—", c.village_code,
                f"RW {c.rw or '—'} / RT {c.rt or '—'}",
                calendar.local_day(c.created_at, c.village_code).isoformat()]
    names = [gettext("Nomor kasus"), gettext("Jenis"), gettext("Status"),
             gettext("Nama anak"), gettext("Jenis kelamin"), gettext("Tanggal lahir"),
             gettext("NIK"), gettext("Kelurahan"), gettext("RW / RT"),
             gettext("Dilaporkan")]
    return list(zip(names, facts(case), facts(other), strict=True))
