"""The words of an alert, in the person's language (`id` by default, `en`).

An alert says which case (its reference), what happened, by when, and where to look — never
a child's name, NIK, address or the narrative (UU 11/2012 SPPA art. 19: a child's identity
is kept out of every publication, and a phone's lock screen is one).
"""

from dataclasses import dataclass
from datetime import datetime

from api.regions import calendar

ZONE_NAMES = {calendar.WIB: "WIB", calendar.WITA: "WITA", calendar.WIT: "WIT"}

WHAT = {
    "case.urgent": ("Laporan darurat / risiko tinggi", "Emergency or high-risk report"),
    "case.triage_overdue": ("Triase terlambat", "Triage overdue"),
    "referral.declined": ("Rujukan ditolak oleh {agency}", "Referral declined by {agency}"),
    "referral.overdue": ("Rujukan belum diterima oleh {agency}",
                         "Referral not accepted by {agency}"),
    "referral.escalated": ("Rujukan ke {agency} belum tertangani",
                           "Referral to {agency} still unanswered"),
    "endpoint.failing": ("Webhook {agency} gagal terus", "Webhook of {agency} keeps failing"),
}
LABELS = {
    "id": {"case": "Kasus", "deadline": "Batas waktu", "open": "Buka", "none": "-"},
    "en": {"case": "Case", "deadline": "Deadline", "open": "Open", "none": "-"},
}


@dataclass(frozen=True)
class AlertMessage:
    """An alert put into words: `subject` (one line) and `text` (a few lines)."""

    subject: str
    text: str
    link: str


def render(alert, *, language: str, public_url: str) -> AlertMessage:
    """ALERT (outbox.models.Alert) in LANGUAGE; the deadline in the local time of the
    case's province (WIB/WITA/WIT), links under PUBLIC_URL."""
    village_code = alert.facts.get("village_code")
    language = language if language in LABELS else "id"
    labels = LABELS[language]
    what = WHAT.get(alert.kind, (alert.kind, alert.kind))[0 if language == "id" else 1]
    what = what.format(agency=alert.facts.get("agency", ""))
    if alert.case_id is not None:
        link = f"{public_url}/app/kasus/{alert.case_id}"
    else:
        link = f"{public_url}/app/"
    reference = alert.reference or ""
    subject = f"[Lindung] {what}" + (f" — {reference}" if reference else "")
    lines = [what]
    if reference:
        lines.append(f"{labels['case']}: {reference}")
    lines.append(f"{labels['deadline']}: {local_time(alert.deadline, village_code)}"
                 if alert.deadline else f"{labels['deadline']}: {labels['none']}")
    lines.append(f"{labels['open']}: {link}")
    return AlertMessage(subject=subject, text="\n".join(lines), link=link)


def local_time(instant: datetime, region_code: str | None) -> str:
    """INSTANT as the region's people read it: 01-12-2026 14:30 WITA."""
    zone = calendar.zone_of(region_code)
    local = instant.astimezone(zone)
    return f"{local:%d-%m-%Y %H:%M} {ZONE_NAMES.get(zone, local.tzname())}"
