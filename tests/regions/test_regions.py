"""Kemendagri regions: the bundled list, GET /regions, and `lindung regions import`."""

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from api.regions import codes
from api.regions.models import Region
from api.regions.service import (
    BUNDLED_REGIONS,
    RegionImportError,
    import_regions,
    read_region_file,
)
from api.vocabularies.codes import RegionLevel

# Kepmendagri 300.2.2-2138/2025 jo. 300.2.2-2430/2025: kecamatan and kelurahan per city
EXPECTED = {"6471": (6, 34), "6371": (5, 52), "6372": (5, 20)}


def _count(session, level, prefix):
    return session.scalar(select(func.count()).select_from(Region).where(
        Region.level == level, Region.code.startswith(prefix)))


@pytest.mark.parametrize(("city", "counts"), EXPECTED.items())
def test_bundled_list_has_every_kecamatan_and_kelurahan(session, city, counts):
    assert (_count(session, RegionLevel.DISTRICT, city),
            _count(session, RegionLevel.VILLAGE, city)) == counts


def test_bundled_names_match_the_decree(session):
    names = dict(session.execute(select(Region.code, Region.name).where(Region.code.in_(
        ["64", "6471", "647101", "6471011001", "6371", "6372", "637202"]))).all())
    assert names == {
        "64": "KALIMANTAN TIMUR", "6471": "KOTA BALIKPAPAN", "647101": "BALIKPAPAN TIMUR",
        "6471011001": "MANGGAR", "6371": "KOTA BANJARMASIN", "6372": "KOTA BANJARBARU",
        "637202": "LANDASAN ULIN",
    }


def test_every_bundled_code_has_the_right_shape_and_parent():
    rows = read_region_file(BUNDLED_REGIONS)
    known = {code for code, _ in rows}
    assert len(rows) == len(known) == 2 + 3 + 16 + 106
    for code, name in rows:
        assert len(code) in (2, 4, 6, 10) and name == name.strip().upper()
        assert codes.parent_of(code) in known | {None}


def test_regions_lists_children_of_a_parent(client, make_user):
    caller = make_user("analyst")
    provinces = client.get("/api/v1/regions", headers=caller.headers).json
    assert [r["code"] for r in provinces] == ["63", "64"]
    kecamatan = client.get("/api/v1/regions?parent=6471", headers=caller.headers).json
    assert [r["code"] for r in kecamatan] == [f"6471{n:02d}" for n in range(1, 7)]
    assert kecamatan[0] == {"code": "647101", "name": "BALIKPAPAN TIMUR", "level": "district",
                            "parent_code": "6471"}
    kelurahan = client.get("/api/v1/regions?parent=647101", headers=caller.headers).json
    assert {r["level"] for r in kelurahan} == {"village"}
    assert len(kelurahan) == 4


def test_regions_parent_must_be_a_code(client, make_user):
    caller = make_user("admin")
    response = client.get("/api/v1/regions?parent=64x", headers=caller.headers)
    assert response.status_code == 422
    assert "parent" in response.json["errors"]


def test_import_adds_renames_and_keeps_existing(session, tmp_path):
    path = tmp_path / "kaltim.csv"
    path.write_text("kode,nama\n64.02,KUTAI KARTANEGARA\n64.02.01,SEMBOJA\n"
                    "64.71.01.1001,MANGGAR RAYA\n64.71.01.1002,LAMARU\n")
    result = import_regions(session=session, rows=read_region_file(path))
    assert (result.added, result.renamed, result.unchanged) == (2, 1, 1)
    assert session.get(Region, "640201").parent_code == "6402"
    assert session.get(Region, "6471011001").name == "MANGGAR RAYA"


@pytest.mark.parametrize(("content", "message"), [
    ("kode;nama\n64.02;X\n", "header"),
    ("code,name\n64.0X,X\n", "line 2"),
    ("code,name\n64.99.01,ORPHAN\n", "no parent"),
    ("code,name\n64.02,\n", "no name"),
])
def test_import_refuses_bad_files(session, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(RegionImportError, match=message):
        import_regions(session=session, rows=read_region_file(path))


def test_import_command(tmp_path, monkeypatch):
    from api.cli import main

    monkeypatch.setenv("LINDUNG_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    path = tmp_path / "regions.csv"
    path.write_text("code,name\n64,KALIMANTAN TIMUR\n64.71,KOTA BALIKPAPAN\n")
    result = runner.invoke(main, ["regions", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 added" in result.output
    path.write_text("code,name\n64.71.77.1001,NOWHERE\n")
    result = runner.invoke(main, ["regions", "import", str(path)])
    assert result.exit_code != 0
    assert "no parent" in result.output
