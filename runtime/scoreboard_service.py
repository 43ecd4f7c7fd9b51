"""The assessment scoreboard for a viewer: rows per grid worker or per child unit, as JSON or CSV.

A viewer sees their own subtree only (any unit inside it may be asked for); viewing needs
``VIEW_CASES``, exporting needs ``EXPORT`` and is audited. Periods are the city's local days
``[from, to)``. The counting rules are ``domain.scoreboard``; the sums are SQL
(``storage.scoreboard_queries``).
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.catalog import t
from domain.permissions import Action, Principal, allowed, in_scope
from domain.scoreboard import (
    COLUMNS,
    SORT_KEYS,
    ScoreRow,
    ScoreWeights,
    Tally,
    display,
    expected_checkins,
    score_rows,
    sort_rows,
)
from geo.hierarchy import Hierarchy
from storage.audit_repository import AuditRepository
from storage.scoreboard_queries import By, ScoreboardQueries

__all__ = ["BOM", "BadScoreQuery", "ScoreDenied", "ScoreQuery", "ScoreboardService", "csv_text", "safe_cell"]

BOM = "\ufeff"  # Excel reads a UTF-8 CSV as UTF-8 (Chinese intact) only with it
MAX_DAYS = 366
DEFAULT_DAYS = 30
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ScoreDenied(PermissionError):
    """The viewer may not see (or export) the scoreboard of that unit."""


class BadScoreQuery(ValueError):
    """A scoreboard request with a wrong parameter; the message names it."""


class ScoreQuery(BaseModel):
    """What a scoreboard request asks for (validated; defaults: by worker, the last 30 local days)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    by: Literal["worker", "unit"] = "worker"
    unit: str | None = None
    start: date | None = Field(default=None, alias="from")
    end: date | None = Field(default=None, alias="to")
    sort: str = "score"
    order: Literal["asc", "desc"] = "desc"

    @field_validator("unit", "start", "end", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("sort")
    @classmethod
    def _known_sort(cls, value: str) -> str:
        if value not in SORT_KEYS:
            raise ValueError(f"one of {', '.join(SORT_KEYS)}")
        return value

    @model_validator(mode="after")
    def _period(self) -> ScoreQuery:
        if self.start is not None and self.end is not None:
            if self.end <= self.start:
                raise ValueError("to must come after from")
            if (self.end - self.start).days > MAX_DAYS:
                raise ValueError(f"a period is at most {MAX_DAYS} days")
        return self

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> ScoreQuery:
        """Validate query arguments; BadScoreQuery names what is wrong."""
        try:
            return cls.model_validate(dict(args))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "query"
            raise BadScoreQuery(f"{where}: {first['msg']}") from None


@dataclass(frozen=True, slots=True)
class Board:
    """A computed scoreboard: what was asked (with the defaults filled in) and its rows."""

    by: By
    unit: str
    start: date
    end: date
    sort: str
    descending: bool
    rows: list[ScoreRow]

    def as_dict(self) -> dict[str, object]:
        """The board as JSON-ready values."""
        return {
            "by": self.by,
            "unit": self.unit,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "sort": self.sort,
            "order": "desc" if self.descending else "asc",
            "rows": [r.as_dict() for r in self.rows],
        }


class ScoreboardService:
    """Compute scoreboards inside a viewer's jurisdiction."""

    def __init__(
        self,
        queries: ScoreboardQueries,
        hierarchy: Hierarchy,
        weights: ScoreWeights,
        audit: AuditRepository,
        *,
        per_day: int,
        subtree: Callable[[str], frozenset[str] | None],
        utc_offset_min: int = 480,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._q = queries
        self._h = hierarchy
        self.weights = weights
        self._audit = audit
        self._per_day = per_day
        self._subtree = subtree
        self._tz = timezone(timedelta(minutes=utc_offset_min))
        self._clock = clock

    def today(self) -> date:
        """The city's local date now."""
        return self._clock().astimezone(self._tz).date()

    def board(self, principal: Principal, query: ScoreQuery) -> Board:
        """The scoreboard a viewer asked for; ScoreDenied outside their role or jurisdiction."""
        unit = query.unit or principal.unit_code
        if not allowed(principal, Action.VIEW_CASES) or not self._within(principal, unit):
            raise ScoreDenied(f"no scoreboard of {unit} for you")
        end = query.end or self.today() + timedelta(days=1)
        start = query.start or end - timedelta(days=DEFAULT_DAYS)
        if end <= start:
            raise BadScoreQuery("to must come after from")
        rows = self._rows(query.by, unit, start, end)
        descending = query.order == "desc"
        return Board(
            query.by, unit, start, end, query.sort, descending, sort_rows(rows, query.sort, descending=descending)
        )

    def export(self, principal: Principal, query: ScoreQuery, lang: str, ip: str) -> tuple[Board, str]:
        """The scoreboard as CSV text (with BOM), audited; ScoreDenied without EXPORT."""
        unit = query.unit or principal.unit_code
        if not allowed(principal, Action.EXPORT):
            raise ScoreDenied("your role may not export")
        board = self.board(principal, query)
        self._audit.append(
            principal.username,
            "scoreboard.export",
            f"unit:{board.unit}",
            ip=ip,
            detail={"unit": unit, "by": board.by, "from": board.start.isoformat(), "to": board.end.isoformat()},
        )
        return board, csv_text(board, lang)

    # -- counting ---------------------------------------------------------------------------------
    def _within(self, principal: Principal, unit: str) -> bool:
        return unit in self._h and in_scope(principal.unit_code, unit, self._h.ancestors)

    def _utc(self, day: date) -> datetime:
        return datetime.combine(day, datetime.min.time(), self._tz).astimezone(UTC)

    def _rows(self, by: By, unit: str, start: date, end: date) -> list[ScoreRow]:
        scope = self._subtree(unit)
        since, until = self._utc(start), self._utc(end)
        days = (end - start).days
        parts: tuple[Mapping[str, Tally], ...] = (
            self._q.cases(by, scope, since, until),
            self._q.verifications(by, scope, since, until, self.weights.pass_results),
            self._q.checkins(by, scope, since, until, self._per_day),
        )
        points = self._q.patrol_points(scope)
        if by == "worker":
            workers = self._q.grid_workers(scope)
            own_points = {u: points.get(grid, 0) for u, (_name, grid) in workers.items()}
            tallies: dict[str, Tally] = {u: Tally() for u in workers}
            group: Callable[[str], str | None] = lambda key: key  # noqa: E731
            parts += (expected_checkins(own_points, days, self._per_day),)
            names = {u: name for u, (name, _grid) in workers.items()}
        else:
            children = self._children(unit)
            tallies = {code: Tally() for code in children}
            group = functools.partial(self._h.part_containing, parts=children.keys())
            parts += (expected_checkins(points, days, self._per_day),)
            names = dict(children)
        for part in parts:
            for key, tally in part.items():
                row = group(key)
                if row is not None:
                    tallies[row] = tallies.get(row, Tally()) + tally
        if by == "worker":
            names.update(self._q.display_names([u for u in tallies if u not in names]))
        return score_rows(tallies, names, self.weights)

    def _children(self, unit: str) -> dict[str, str]:
        """code → name of the unit's children; a grid stands for itself."""
        return {u.code: u.name for u in self._h.parts(unit)}


def safe_cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection): quote a leading = + - @.

    >>> safe_cell("=1+1"), safe_cell("王五")
    ("'=1+1", '王五')
    """
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_text(board: Board, lang: str) -> str:
    """The board as CSV in a language: a BOM, headers from the catalog, values as the page shows them."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(t(c.label(board.by), lang)) for c in COLUMNS])
    for row in board.rows:
        writer.writerow([safe_cell(display(getattr(row, c.key), c.fmt)) for c in COLUMNS])
    return out.getvalue()
