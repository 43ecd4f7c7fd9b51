"""A WHERE on a unit-code column for a jurisdiction: every query that is scoped to a subtree uses it."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_

__all__ = ["in_units", "scoped"]

CHUNK = 900  # codes per IN (...) (SQLite's variable limit is 32766 since 3.32; stay well under)


def in_units(column: Any, units: Collection[str] | None) -> ColumnElement[bool] | None:
    """``column IN units``, chunked; None for no filter (the whole city), false() for no unit at all."""
    if units is None:
        return None
    codes = list(units)
    if not codes:
        return false()
    return or_(*(column.in_(codes[i : i + CHUNK]) for i in range(0, len(codes), CHUNK)))


def scoped(stmt: Select[Any], column: Any, units: Collection[str] | None) -> Select[Any]:
    """The statement restricted to rows whose ``column`` is one of ``units`` (all rows for None)."""
    cond = in_units(column, units)
    return stmt if cond is None else stmt.where(cond)
