"""The rows of the KLA statistics as CSV, safe to open in a spreadsheet: kelurahan rows, or
for analysts the kecamatan rows of the published figures."""

import csv
import io

from api.vocabularies.codes import ViolenceType

COLUMNS = (
    ("code", "Kode wilayah", "Region code"),
    ("name", "Kelurahan", "Kelurahan"),
    ("violence_cases", "Kasus kekerasan baru", "New violence cases"),
    ("stunting_risk_cases", "Kasus risiko stunting", "Stunting-risk cases"),
    ("open_cases", "Kasus terbuka", "Open cases"),
    ("days_since_last_violence_case", "Hari sejak kasus kekerasan terakhir",
     "Days since last violence case"),
    ("overdue_referrals", "Rujukan terlambat", "Overdue referrals"),
    ("triaged_cases", "Kasus ditelaah", "Triaged cases"),
    ("median_days_to_triage", "Median hari hingga telaah", "Median days to triage"),
    ("accepted_cases", "Kasus dengan rujukan diterima", "Cases with an accepted referral"),
    ("median_days_to_first_acceptance", "Median hari hingga rujukan diterima",
     "Median days to first accepted referral"),
    ("suppressed", "Disamarkan", "Suppressed"),
)
# the analyst's kecamatan rows (stats/publication.py); violence_by_type one column per form
KECAMATAN_COLUMNS = (
    ("code", "Kode wilayah", "Region code"),
    ("name", "Kecamatan", "Kecamatan"),
    ("violence_cases", "Kasus kekerasan baru", "New violence cases"),
    *((f"violence_by_type.{kind.value}", f"Kekerasan: {kind.label_id}",
       f"Violence: {kind.label_en}") for kind in ViolenceType),
    ("stunting_risk_cases", "Kasus risiko stunting", "Stunting-risk cases"),
    ("children_measured", "Anak ditimbang", "Children measured"),
    ("stunted_pct", "Persen stunting", "Stunted (%)"),
    ("wasted_pct", "Persen wasting", "Wasted (%)"),
    ("underweight_pct", "Persen berat badan kurang", "Underweight (%)"),
)
# a cell starting with one of these is a formula to a spreadsheet (OWASP: CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def kelurahan_csv(rows: list[dict], *, lang: str) -> str:
    """Kelurahan ROWS as CSV with English or Indonesian (LANG = "id") column labels."""
    return _table(rows, COLUMNS, lang=lang)


def kecamatan_csv(rows: list[dict], *, lang: str) -> str:
    """The analyst's kecamatan ROWS as CSV with English or Indonesian (LANG = "id") labels."""
    return _table(rows, KECAMATAN_COLUMNS, lang=lang)


def _table(rows: list[dict], columns, *, lang: str) -> str:
    label = 1 if lang == "id" else 2
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column[label] for column in columns])
    for row in rows:
        writer.writerow([_cell(_field(row, column[0])) for column in columns])
    return buffer.getvalue()


def _field(row: dict, path: str):
    """A field of ROW, or of a dict in ROW for a dotted PATH (violence_by_type.sexual)."""
    for name in path.split("."):
        row = row.get(name) if isinstance(row, dict) else None
    return row


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
