"""The `geo` commands on a real SQLite file: import, validate, repair, generate, export, round trip."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
import shapely

from geo.hierarchy import Level
from runtime import geo_commands
from runtime.bootstrap import GEO_SOURCE_KEY, open_database
from settings import Settings
from storage.repositories import GeoRepository, MetaRepository
from tests import databases
from tests.processes import ROOT, app_env
from tests.shared_data import SHARED_DATA, shared_data

WGS = SHARED_DATA / "boundaries" / "nanjing_districts_320100_wgs84.geojson"


def geo(settings: Settings, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    geo_commands.add_parser(parser.add_subparsers(dest="command"))
    return geo_commands.run(parser.parse_args(["geo", *map(str, argv)]), settings)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    shared_data("boundaries", WGS.name)
    return Settings(data_dir=tmp_path / "var", database_url=databases.app_db_url(tmp_path / "var"))


def stored(settings: Settings) -> dict[Level, int]:
    engine = open_database(settings)
    try:
        repo = GeoRepository(engine)
        return {lv: repo.count(lv) for lv in Level}
    finally:
        engine.dispose()


def test_import_repair_generate_validate_export_round_trip(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert geo(settings, "import", WGS, "--level", "district", "--city-name", "南京市") == 0
    assert geo(settings, "validate") == 1
    assert "overlap" in capsys.readouterr().out
    assert geo(settings, "repair", "--tolerance", "50") == 0
    assert "overlap_resolved" in capsys.readouterr().out
    assert geo(settings, "validate") == 0
    assert geo(settings, "generate", "--grids", "300", "--communities", "40", "--streets", "20", "--seed", "3") == 0
    assert stored(settings) == {
        Level.CITY: 1,
        Level.DISTRICT: 11,
        Level.STREET: 20,
        Level.COMMUNITY: 40,
        Level.GRID: 300,
    }
    assert geo(settings, "validate") == 0
    engine = open_database(settings)
    source = MetaRepository(engine).get(GEO_SOURCE_KEY)
    before = {u.code: u for u in GeoRepository(engine).load_units()}
    engine.dispose()
    assert source is not None and source.startswith("import:") and not source.startswith("demo:")
    for fmt in ("geojson", "gpkg"):
        out = tmp_path / f"grids.{fmt}"
        assert geo(settings, "export", "--level", "grid", "--format", fmt, "--output", out) == 0
        assert geo(settings, "import", out, "--level", "grid") == 0
        engine = open_database(settings)
        after = {u.code: u for u in GeoRepository(engine).load_units()}
        engine.dispose()
        assert after.keys() == before.keys()
        for code, unit in after.items():
            if unit.level is Level.GRID:
                old = before[code]
                assert (unit.name, unit.parent_code) == (old.name, old.parent_code)
                assert shapely.equals_exact(unit.geometry, old.geometry, tolerance=1e-9)
    assert geo(settings, "lod") == 0
    sizes = capsys.readouterr().out
    assert "grid" in sizes and "bytes" in sizes


def test_bad_field_names_field_feature_and_file_and_leaves_nothing(settings: Settings, tmp_path: Path) -> None:
    assert geo(settings, "import", WGS, "--level", "district") == 0
    before = stored(settings)
    layer = json.loads(WGS.read_text(encoding="utf-8"))
    layer["features"][3]["properties"]["adcode"] = "32A106"
    broken = tmp_path / "broken.geojson"
    broken.write_text(json.dumps(layer, ensure_ascii=False), encoding="utf-8")
    env = app_env(GRIDWATCH_DATA_DIR=str(settings.data_dir))
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "geo", "import", str(broken), "--level", "district"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 1
    assert f"{broken}: feature 3: field 'adcode': a district code has 6 digits, got '32A106'" in done.stdout
    assert stored(settings) == before


def test_missing_field_and_wrong_level_are_refused(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert geo(settings, "import", WGS, "--level", "district", "--code-field", "code_gb") == 1
    assert "field 'code_gb': no such field" in capsys.readouterr().out
    assert geo(settings, "import", WGS, "--level", "street", "--code-field", "adcode") == 1
    assert "feature 0: field 'adcode': a street code has 9 digits, got '320102'" in capsys.readouterr().out
    assert stored(settings)[Level.DISTRICT] == 0
