"""Check the geo package's public surface and its purity."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import geo

ALLOWED_IMPORTS = {"shapely", "numpy", "pyproj", "geo", "__future__"}
FILE_IO_IMPORTS = {"geopandas", "pyogrio"}  # only in geo/files.py, the module that reads and writes files


def test_public_names() -> None:
    assert set(geo.__all__) == {
        "Level",
        "Unit",
        "Hierarchy",
        "HierarchyError",
        "DemoCitySpec",
        "generate_demo_city",
        "GridLocator",
        "level_feature_collection",
        "random_points_in",
    }
    for name in geo.__all__:
        assert getattr(geo, name) is not None


def test_geo_imports_only_stdlib_shapely_numpy() -> None:
    package = Path(geo.__file__).parent
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = [node.module.split(".")[0]]
            else:
                continue
            for root in roots:
                allowed = ALLOWED_IMPORTS | (FILE_IO_IMPORTS if path.name == "files.py" else set())
                assert root in allowed or root in sys.stdlib_module_names, f"{path.name} imports {root}"
