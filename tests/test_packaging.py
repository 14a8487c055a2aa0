"""Lindung installs from its built wheel and runs without its source tree: the wheel holds
every file the code reads and the migrations; a missing optional driver is one clear line.
(.ci/wheel-check does the whole of `make run` from a clean virtualenv.)"""

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import api
from api import migrate
from tests.servers import LINDUNG

ROOT = Path(__file__).resolve().parent.parent
MISSING_DRIVER = "lindung: PostgreSQL needs the driver psycopg: pip install 'lindung[postgres]'"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                    "--wheel-dir", str(folder), str(ROOT)], check=True, capture_output=True)
    return next(folder.glob("lindung-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed (without its dependencies: this venv has them) under a prefix of
    its own; the path to put on PYTHONPATH."""
    prefix = tmp_path_factory.mktemp("prefix")
    # --ignore-installed: never touch the installation of the venv running the tests
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--ignore-installed",
                    "--quiet", "--prefix", str(prefix), str(wheel)], check=True,
                   capture_output=True)
    return Path(sysconfig.get_path("purelib", vars={"base": str(prefix),
                                                     "platbase": str(prefix)}))


def _project_files(*folders: str) -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                             *folders], cwd=ROOT, check=True, capture_output=True, text=True)
    return [name for name in listed.stdout.splitlines() if (ROOT / name).is_file()]


def test_wheel_holds_every_file_under_api_and_every_migration(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    api_files = _project_files("api")
    migrations = _project_files("migrations")
    assert any(not name.endswith(".py") for name in api_files)  # json, csv, templates …
    assert [name for name in api_files if name not in names] == []
    data = "lindung-0.1.0.data/data/share/lindung/"
    assert len(migrations) > 3
    assert [name for name in migrations if data + name not in names] == []


def test_installed_wheel_migrates_loads_the_demo_and_weighs_outside_the_source_tree(
        installed, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(installed),
           "LINDUNG_DATABASE_URL": f"sqlite:///{tmp_path / 'lindung.sqlite3'}",
           "LINDUNG_INSTANCE_PATH": str(tmp_path / "instance")}
    cli = [sys.executable, "-c", "from api.cli import main; main()"]
    demo = subprocess.run([*cli, "demo"], cwd=tmp_path, env=env, capture_output=True,
                          text=True)
    assert demo.returncode == 0, demo.stderr
    cadre = next(line.split()[2] for line in demo.stdout.splitlines()
                 if "demo_posyandu_cadre" in line)
    weighing = subprocess.run([sys.executable, "-c", WEIGH, cadre], cwd=tmp_path, env=env,
                              capture_output=True, text=True)
    assert weighing.returncode == 0, weighing.stderr
    answer = json.loads(weighing.stdout)
    assert Path(answer["api"]).is_relative_to(installed)
    assert Path(answer["migrations"]).parts[-3:] == ("share", "lindung", "migrations")
    assert answer["status"] == 201
    assert answer["haz"] == -3.89


WEIGH = """
import json, sys
import api
from api import create_app
from api.migrate import migrations_directory

answer = create_app().test_client().post("/api/v1/measurements", json={
    "child": {"name": "Putri", "sex": "female", "birth_date": "2025-11-20",
              "village_code": "6471011002"},
    "measured_on": "2026-11-20", "weight_kg": 7.0, "height_cm": 64.0, "position": "lying"},
    headers={"Authorization": "Bearer " + sys.argv[1]})
print(json.dumps({"api": api.__file__, "migrations": str(migrations_directory()),
                  "status": answer.status_code, "haz": answer.json.get("haz")}))
"""


def test_migrations_missing_from_an_installation_are_named(monkeypatch, tmp_path):
    monkeypatch.setattr(migrate, "SOURCE_TREE", tmp_path)
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    with pytest.raises(migrate.MigrationsMissing, match="not installed"):
        migrate.migrations_directory()


@pytest.fixture
def without_psycopg(tmp_path) -> dict:
    """An environment in which `import psycopg` fails as it does when it is not installed."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "psycopg.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'psycopg'\", name='psycopg')\n")
    return {**os.environ, "PYTHONPATH": str(shadow),
            "LINDUNG_DATABASE_URL": "postgresql+psycopg://lindung@127.0.0.1:1/lindung",
            "LINDUNG_INSTANCE_PATH": str(tmp_path / "instance")}


@pytest.mark.parametrize("command", [["db", "upgrade"], ["serve", "--port", "1"], ["demo"]])
def test_postgresql_without_its_driver_is_one_clear_line(without_psycopg, tmp_path, command):
    ran = subprocess.run([LINDUNG, *command], cwd=tmp_path, env=without_psycopg,
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode == 2
    assert ran.stderr.strip() == MISSING_DRIVER
    assert "Traceback" not in ran.stdout + ran.stderr


def test_openapi_write_from_an_empty_folder_makes_the_folder(tmp_path):
    ran = subprocess.run([LINDUNG, "openapi", "write"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120,
                         env={**os.environ, "LINDUNG_INSTANCE_PATH": str(tmp_path / "i")})
    assert ran.returncode == 0, ran.stderr
    spec = json.loads((tmp_path / "openapi" / "openapi.json").read_text())
    assert spec["info"]["version"] == "v1"
    assert {"/api/v1/health/ready", "/api/v1/health/live"} <= set(spec["paths"])


def test_the_package_version_is_the_distributions():
    from importlib import metadata

    assert api.__version__ == metadata.version("lindung")
