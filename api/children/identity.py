"""Format checks of Indonesian identity numbers (NIK on the KTP/KIA, KK family card number)."""

import re

_DIGITS16 = re.compile(r"[0-9]{16}\Z")


def nik_problems(nik: str) -> list[str]:
    """Why NIK cannot be a real NIK, or [] (Permendagri on population data: PPKKCC DDMMYY SSSS)."""
    if not _DIGITS16.match(nik):
        return ["A NIK has exactly 16 digits."]
    province, day, month, serial = int(nik[:2]), int(nik[6:8]), int(nik[8:10]), nik[12:]
    problems = []
    if not 11 <= province <= 96:
        problems.append("The first two digits of a NIK are a province code (11-96).")
    # women's NIKs add 40 to the day of birth
    if not (1 <= day <= 31 or 41 <= day <= 71):
        problems.append("Digits 7-8 of a NIK are the day of birth (01-31, or 41-71 for girls).")
    if not 1 <= month <= 12:
        problems.append("Digits 9-10 of a NIK are the month of birth (01-12).")
    if serial == "0000":
        problems.append("The last four digits of a NIK are a serial number, never 0000.")
    return problems


def kk_problems(kk_number: str) -> list[str]:
    """Why KK_NUMBER cannot be a family card number, or []."""
    if not _DIGITS16.match(kk_number):
        return ["A KK number has exactly 16 digits."]
    if not 11 <= int(kk_number[:2]) <= 96:
        return ["The first two digits of a KK number are a province code (11-96)."]
    return []
