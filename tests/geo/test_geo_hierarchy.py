"""Check the Hierarchy tree lookups and its validation errors."""

from __future__ import annotations

import pytest
import shapely

from geo import Hierarchy, HierarchyError, Level, Unit

BOX = shapely.box(0.0, 0.0, 1.0, 1.0)


def unit(code: str, level: Level, parent: str | None, households: int = 600) -> Unit:
    """Build a unit over a unit square; geometry does not matter for tree checks."""
    return Unit(code, f"u{code}", level, parent, households, BOX)


def tiny_tree() -> list[Unit]:
    """Return one unit per level, city to grid."""
    return [
        unit("9901", Level.CITY, None),
        unit("990101", Level.DISTRICT, "9901"),
        unit("990101001", Level.STREET, "990101"),
        unit("990101001001", Level.COMMUNITY, "990101001"),
        unit("990101001001001", Level.GRID, "990101001001"),
    ]


@pytest.mark.parametrize(
    ("level", "key"),
    [
        (Level.CITY, "level.city"),
        (Level.DISTRICT, "level.district"),
        (Level.STREET, "level.street"),
        (Level.COMMUNITY, "level.community"),
        (Level.GRID, "level.grid"),
    ],
)
def test_level_label_keys(level: Level, key: str) -> None:
    assert level.label_key == key


def test_levels_are_ordered_ints() -> None:
    assert [int(lv) for lv in Level] == [0, 1, 2, 3, 4]
    assert Level.GRID > Level.CITY


def test_unit_is_frozen() -> None:
    u = unit("9901", Level.CITY, None)
    with pytest.raises(AttributeError):
        u.name = "x"  # type: ignore[misc]


def test_len_contains_get_city(geo_city: Hierarchy, geo_units: list[Unit]) -> None:
    assert len(geo_city) == len(geo_units) == 1 + 3 + 8 + 30 + 300
    grid = geo_units[-1]
    assert grid.code in geo_city
    assert "nope" not in geo_city
    assert 9901 not in geo_city
    assert geo_city.get(grid.code) is grid
    assert geo_city.city.level is Level.CITY
    with pytest.raises(KeyError):
        geo_city.get("0000")


def test_children_sorted_and_point_back(geo_city: Hierarchy) -> None:
    for level in (Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY):
        for parent in geo_city.at_level(level):
            kids = geo_city.children(parent.code)
            assert [k.code for k in kids] == sorted(k.code for k in kids)
            assert all(k.parent_code == parent.code for k in kids)
            assert all(k.level == parent.level + 1 for k in kids)
    grid = geo_city.at_level(Level.GRID)[0]
    assert geo_city.children(grid.code) == ()


def test_ancestors_nearest_first(geo_city: Hierarchy) -> None:
    grid = geo_city.at_level(Level.GRID)[-1]
    code = grid.code
    assert geo_city.ancestors(code) == (code[:12], code[:9], code[:6], code[:4])
    assert geo_city.ancestors(code[:6]) == (code[:4],)
    assert geo_city.ancestors(code[:4]) == ()
    for unit_ in geo_city.at_level(Level.COMMUNITY):
        chain = geo_city.ancestors(unit_.code)
        assert chain[0] == unit_.parent_code
        assert chain[-1] == geo_city.city.code
        assert len(chain) == int(unit_.level)


def test_grids_under(geo_city: Hierarchy) -> None:
    all_grids = tuple(g.code for g in geo_city.at_level(Level.GRID))
    assert geo_city.grids_under(geo_city.city.code) == all_grids
    assert geo_city.grids_under(all_grids[5]) == (all_grids[5],)
    for level in (Level.DISTRICT, Level.STREET, Level.COMMUNITY):
        total = 0
        for parent in geo_city.at_level(level):
            under = geo_city.grids_under(parent.code)
            assert under == tuple(c for c in all_grids if c.startswith(parent.code))
            total += len(under)
        assert total == len(all_grids)


def test_district_of(geo_city: Hierarchy) -> None:
    assert geo_city.district_of(geo_city.city.code) is None
    for level in (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID):
        for u in geo_city.at_level(level):
            assert geo_city.district_of(u.code) == u.code[:6]


@pytest.mark.parametrize("level", list(Level))
def test_at_level_sorted_and_complete(geo_city: Hierarchy, level: Level) -> None:
    units = geo_city.at_level(level)
    assert [u.code for u in units] == sorted(u.code for u in units)
    assert all(u.level is level for u in units)


def test_bounds_match_geometry(geo_city: Hierarchy) -> None:
    for level in Level:
        for u in geo_city.at_level(level)[:5]:
            assert geo_city.bounds(u.code) == tuple(u.geometry.bounds)
    minx, miny, maxx, maxy = geo_city.bounds(geo_city.city.code)
    assert minx < 118.8 < maxx
    assert miny < 32.05 < maxy


def test_tiny_tree_accepts_any_input_order() -> None:
    tree = Hierarchy(reversed(tiny_tree()))
    assert tree.city.code == "9901"
    assert tree.grids_under("9901") == ("990101001001001",)
    assert tree.district_of("990101001001001") == "990101"


@pytest.mark.parametrize(
    ("units", "offender"),
    [
        ([*tiny_tree(), unit("990102001", Level.STREET, "990102")], "990102001"),
        ([*tiny_tree(), unit("9902", Level.CITY, None)], "9902"),
        ([u for u in tiny_tree() if u.level is not Level.CITY], "none"),
        ([*tiny_tree(), unit("990101002001", Level.COMMUNITY, "990101")], "990101002001"),
        ([*tiny_tree(), unit("990102", Level.GRID, "9901")], "990102"),
        ([*tiny_tree(), unit("990101", Level.DISTRICT, "9901")], "990101"),
        ([*tiny_tree(), unit("990199", Level.DISTRICT, None)], "990199"),
        ([unit("9901", Level.CITY, "99"), *tiny_tree()[1:]], "9901"),
    ],
    ids=[
        "missing-parent",
        "two-cities",
        "no-city",
        "level-jump",
        "level-jump-grid",
        "duplicate",
        "orphan",
        "city-with-parent",
    ],
)
def test_invalid_trees_raise_naming_the_code(units: list[Unit], offender: str) -> None:
    with pytest.raises(HierarchyError, match=offender):
        Hierarchy(units)


def test_hierarchy_error_is_a_value_error() -> None:
    assert issubclass(HierarchyError, ValueError)
