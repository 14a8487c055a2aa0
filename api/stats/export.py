"""The kelurahan rows of the KLA statistics as CSV, safe to open in a spreadsheet."""

import csv
import io

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
# a cell starting with one of these is a formula to a spreadsheet (OWASP: CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def kelurahan_csv(rows: list[dict], *, lang: str) -> str:
    """ROWS as CSV with English or Indonesian (LANG = "id") column labels."""
    label = 1 if lang == "id" else 2
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column[label] for column in COLUMNS])
    for row in rows:
        writer.writerow([_cell(row.get(column[0])) for column in COLUMNS])
    return buffer.getvalue()


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
