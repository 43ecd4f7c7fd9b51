"""Hold the administrative tree (city > district > street > community > grid) in memory."""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import numpy as np
import shapely  # type: ignore[import-untyped, unused-ignore]

__all__ = ["Hierarchy", "HierarchyError", "Level", "Unit"]


class Level(enum.IntEnum):
    """Name the five nesting levels so code never compares bare integers."""

    CITY = 0
    DISTRICT = 1
    STREET = 2
    COMMUNITY = 3
    GRID = 4

    @property
    def label_key(self) -> str:
        """Return the message-catalog key for this level, e.g. ``"level.city"``."""
        return f"level.{self.name.lower()}"


@dataclass(frozen=True, slots=True)
class Unit:
    """Describe one administrative unit with its outline in WGS84 lon/lat."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    households: int
    geometry: shapely.Polygon | shapely.MultiPolygon


class HierarchyError(ValueError):
    """Signal a malformed unit tree, naming the offending code."""


class Hierarchy:
    """Immutable in-memory tree of units, loaded once."""

    __slots__ = (
        "_ancestors",
        "_bounds",
        "_by_code",
        "_by_level",
        "_children",
        "_city",
        "_district",
        "_grids_under",
    )

    def __init__(self, units: Iterable[Unit]) -> None:
        """Validate the tree and precompute every lookup used on hot paths."""
        by_code: dict[str, Unit] = {}
        for unit in units:
            if unit.code in by_code:
                raise HierarchyError(f"duplicate unit code {unit.code!r}")
            by_code[unit.code] = unit
        cities = sorted(u.code for u in by_code.values() if u.level is Level.CITY)
        if len(cities) != 1:
            found = ", ".join(cities) if cities else "none"
            raise HierarchyError(f"expected exactly one CITY unit, found: {found}")
        children: dict[str, list[str]] = {code: [] for code in by_code}
        for unit in by_code.values():
            if unit.level is Level.CITY:
                if unit.parent_code is not None:
                    raise HierarchyError(f"city {unit.code!r} must not have a parent")
                continue
            if unit.parent_code is None:
                raise HierarchyError(f"unit {unit.code!r} has no parent_code")
            parent = by_code.get(unit.parent_code)
            if parent is None:
                raise HierarchyError(f"unit {unit.code!r} names missing parent {unit.parent_code!r}")
            if unit.level != parent.level + 1:
                raise HierarchyError(
                    f"unit {unit.code!r} ({unit.level.name}) cannot sit directly under "
                    f"{parent.code!r} ({parent.level.name})"
                )
            children[parent.code].append(unit.code)

        ordered = sorted(by_code.values(), key=lambda u: (u.level, u.code))
        self._by_code = by_code
        self._city = by_code[cities[0]]
        self._children = {code: tuple(by_code[c] for c in sorted(kids)) for code, kids in children.items()}
        self._by_level = {level: tuple(u for u in ordered if u.level is level) for level in Level}
        # Top-down pass: ancestors and districts come from the parent's answers.
        ancestors: dict[str, tuple[str, ...]] = {}
        district: dict[str, str | None] = {}
        for unit in ordered:
            if unit.parent_code is None:
                ancestors[unit.code] = ()
                district[unit.code] = None
            else:
                ancestors[unit.code] = (unit.parent_code, *ancestors[unit.parent_code])
                district[unit.code] = unit.code if unit.level is Level.DISTRICT else district[unit.parent_code]
        # Bottom-up pass: a subtree's grids are the merged grids of its children.
        grids_under: dict[str, tuple[str, ...]] = {}
        for unit in reversed(ordered):
            if unit.level is Level.GRID:
                grids_under[unit.code] = (unit.code,)
            else:
                merged: list[str] = []
                for child in self._children[unit.code]:
                    merged.extend(grids_under[child.code])
                merged.sort()
                grids_under[unit.code] = tuple(merged)
        self._ancestors = ancestors
        self._district = district
        self._grids_under = grids_under
        raw = np.asarray(shapely.bounds([u.geometry for u in ordered]), dtype=np.float64)
        self._bounds: dict[str, tuple[float, float, float, float]] = {
            u.code: (float(b[0]), float(b[1]), float(b[2]), float(b[3])) for u, b in zip(ordered, raw, strict=True)
        }

    def __len__(self) -> int:
        """Count all units at every level."""
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        """Tell whether a unit with this code exists."""
        return isinstance(code, str) and code in self._by_code

    def get(self, code: str) -> Unit:
        """Return the unit with ``code``.

        Raises
        ------
        KeyError
            If no unit has that code.
        """
        return self._by_code[code]

    @property
    def city(self) -> Unit:
        """Return the single CITY unit at the root."""
        return self._city

    def children(self, code: str) -> tuple[Unit, ...]:
        """Return the direct children of ``code``, sorted by code.

        Raises
        ------
        KeyError
            If no unit has that code.
        """
        return self._children[code]

    def parts(self, code: str) -> tuple[Unit, ...]:
        """Return what a breakdown of ``code`` is made of: its children, or the unit itself for a grid.

        Raises
        ------
        KeyError
            If no unit has that code.
        """
        return self._children[code] or (self.get(code),)

    def part_containing(self, code: str, parts: Collection[str]) -> str | None:
        """Return the one of ``parts`` that ``code`` is or lies under; None if none is, or the code is unknown."""
        if code in parts:
            return code
        if code not in self:
            return None
        return next((a for a in self.ancestors(code) if a in parts), None)

    def ancestors(self, code: str) -> tuple[str, ...]:
        """Return the codes from the parent of ``code`` up to the city, nearest first.

        Raises
        ------
        KeyError
            If no unit has that code.
        """
        return self._ancestors[code]

    def at_level(self, level: Level) -> tuple[Unit, ...]:
        """Return all units of ``level``, sorted by code."""
        return self._by_level[Level(level)]

    def grids_under(self, code: str) -> tuple[str, ...]:
        """Return the sorted grid codes in the subtree of ``code`` (itself for a grid).

        Raises
        ------
        KeyError
            If no unit has that code.
        """
        return self._grids_under[code]

    def district_of(self, code: str) -> str | None:
        """Return the district containing ``code`` (itself for a district, None for the city).

        Raises
        ------
        KeyError
            If no unit has that code.
        """
        return self._district[code]

    def bounds(self, code: str) -> tuple[float, float, float, float]:
        """Return ``(minx, miny, maxx, maxy)`` of the unit in lon/lat.

        Raises
        ------
        KeyError
            If no unit has that code.
        """
        return self._bounds[code]
