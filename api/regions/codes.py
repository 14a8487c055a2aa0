"""Kemendagri code arithmetic: levels, parents and prefix ranges."""

import re

from api.vocabularies.codes import RegionLevel

# digits of a code at each level (Permendagri on region codes: 2.2.2.4)
LEVEL_BY_LENGTH = {
    2: RegionLevel.PROVINCE,
    4: RegionLevel.CITY,
    6: RegionLevel.DISTRICT,
    10: RegionLevel.VILLAGE,
}
VILLAGE_CODE_LENGTH = 10
_DOTTED = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
_PLAIN = re.compile(r"^\d+$")


def normalize(code: str) -> str:
    """'64.71.01.1001' or '6471011001' → '6471011001'; ValueError if neither."""
    code = code.strip()
    if _DOTTED.match(code):
        return code.replace(".", "")
    if _PLAIN.match(code) and len(code) in LEVEL_BY_LENGTH:
        return code
    raise ValueError(f"not a Kemendagri region code: {code!r}")


def level_of(code: str) -> RegionLevel:
    return LEVEL_BY_LENGTH[len(code)]


def parent_of(code: str) -> str | None:
    lengths = sorted(LEVEL_BY_LENGTH)
    index = lengths.index(len(code))
    return code[: lengths[index - 1]] if index else None


def city_of(village_code: str) -> str:
    return village_code[:4]


def village_range(prefix: str) -> tuple[str, str]:
    """The inclusive range of village codes under PREFIX, so a B-tree index serves it."""
    return (
        prefix.ljust(VILLAGE_CODE_LENGTH, "0"),
        prefix.ljust(VILLAGE_CODE_LENGTH, "9"),
    )


def covers(area_code: str, village_code: str) -> bool:
    """True when the area (any level) contains the village."""
    return village_code.startswith(area_code)
