"""Region queries and the Kemendagri CSV import."""

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.orm import Session

from api.regions import codes
from api.regions.models import Region
from api.vocabularies.codes import RegionLevel

BUNDLED_REGIONS = Path(__file__).parent / "data" / "kemendagri_kalimantan.csv"
CODE_COLUMNS = ("code", "kode")
NAME_COLUMNS = ("name", "nama")


class RegionImportError(ValueError):
    """A line of a region file that cannot be imported."""


@dataclass(frozen=True)
class ImportResult:
    added: int
    renamed: int
    unchanged: int


def children_of(*, parent_code: str | None) -> Select:
    """Regions directly under PARENT_CODE (provinces when None), by code."""
    if parent_code is None:
        condition = Region.level == RegionLevel.PROVINCE
    else:
        condition = Region.parent_code == parent_code
    return select(Region).where(condition).order_by(Region.code)


def village_exists(*, session: Session, code: str) -> bool:
    found = session.scalar(
        select(Region.code).where(Region.code == code, Region.level == RegionLevel.VILLAGE)
    )
    return found is not None


def existing_codes(*, session: Session, candidates: Iterable[str]) -> set[str]:
    return set(session.scalars(select(Region.code).where(Region.code.in_(set(candidates)))))


def within_areas(column, area_codes: Iterable[str]):
    """SQL condition: COLUMN (a village code) lies in one of AREA_CODES."""
    ranges = [column.between(*codes.village_range(code)) for code in area_codes]
    return or_(*ranges) if ranges else false()


def within_prefix(column, prefix: str):
    low, high = codes.village_range(prefix)
    return and_(column >= low, column <= high)


def read_region_file(path: Path) -> list[tuple[str, str]]:
    """(code, name) rows of a Kemendagri list in CSV: columns code,name (or kode,nama)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = {name.strip().lower(): name for name in reader.fieldnames or []}
        code_column = next((header[c] for c in CODE_COLUMNS if c in header), None)
        name_column = next((header[c] for c in NAME_COLUMNS if c in header), None)
        if code_column is None or name_column is None:
            raise RegionImportError("the file needs a header with columns 'code' and 'name'")
        rows = []
        for line, record in enumerate(reader, start=2):
            try:
                code = codes.normalize(record[code_column] or "")
            except ValueError as error:
                raise RegionImportError(f"line {line}: {error}") from None
            name = (record[name_column] or "").strip()
            if not name:
                raise RegionImportError(f"line {line}: region {code} has no name")
            rows.append((code, name))
    return rows


def import_regions(*, session: Session, rows: list[tuple[str, str]]) -> ImportResult:
    """Add or rename regions; every parent must be in ROWS or already stored. A city of ROWS
    without routing rules gets a stored copy of the default set."""
    by_code = dict(rows)
    parents = {parent for code in by_code if (parent := codes.parent_of(code))}
    known = existing_codes(session=session, candidates=parents)
    missing = sorted(
        code for code in by_code
        if (parent := codes.parent_of(code)) and parent not in by_code and parent not in known
    )
    if missing:
        raise RegionImportError(
            f"{len(missing)} region(s) have no parent in the file or the database, "
            f"first: {missing[0]}"
        )
    stored = {r.code: r for r in session.scalars(select(Region).where(Region.code.in_(by_code)))}
    added = renamed = unchanged = 0
    for code in sorted(by_code, key=len):  # parents before their children
        region = stored.get(code)
        if region is None:
            session.add(Region(code=code, name=by_code[code], level=codes.level_of(code),
                               parent_code=codes.parent_of(code)))
            added += 1
        elif region.name != by_code[code]:
            region.name = by_code[code]
            renamed += 1
        else:
            unchanged += 1
        session.flush()
    # imported here, not at the top: the referrals service reads regions (a module cycle)
    from api.referrals.service import give_default_rules

    give_default_rules(session=session, city_codes=[
        code for code in by_code if codes.level_of(code) is RegionLevel.CITY])
    return ImportResult(added=added, renamed=renamed, unchanged=unchanged)
