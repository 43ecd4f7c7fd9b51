"""The assessment scoreboard (考核): how well each grid worker, or each unit, did in a period.

Figures per row, all over one period ``[from, to)``:

- **cases handled**: cases whose first feedback (``handled_at``) falls in the period, counted
  for the person who gave it (``handled_by``) or for the case's responsible unit;
- **on-time rate**: of those, the share handled within the deadline of the handling step
  (cases without a deadline are left out of the denominator);
- **re-open rate**: of those, the share sent back at least once (返工);
- **satisfaction**: the mean citizen satisfaction (1–5) of those that were evaluated;
- **verification pass rate**: of the verification tasks done in the period, the share whose
  result is a pass (``[score] pass_results``);
- **check-ins**: patrol check-ins done / expected, where expected is
  points × days × ``[patrol] per_day`` (a worker's points are their grid's; a unit's are the
  points under it). Visits beyond ``per_day`` to one point on one local day do not count twice.
- **score**: 0–100, the weighted mean of the parts that have a value, each scaled to 0–1:
  on-time rate, (satisfaction − 1) / 4, 1 − re-open rate, min(1, check-in rate) and the
  verification pass rate, with the weights of ``[score]`` in ``case_rules.toml``
  (on_time 40, satisfaction 30, reopen 15, checkins 15, verification 0 by default). A part
  without a value (nothing to divide by) is left out and the others are re-weighted; no part
  at all gives no score.

An empty denominator gives None (shown "—"), never a made-up 0 %. Everything here is pure:
storage groups the rows in SQL into :class:`Tally` values, this module turns them into rows.
"""

from __future__ import annotations

import enum
import math
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any

__all__ = [
    "COLUMNS",
    "SORT_KEYS",
    "CaseFact",
    "CheckinFact",
    "Column",
    "Format",
    "ScoreRow",
    "ScoreWeights",
    "Tally",
    "VerificationFact",
    "display",
    "expected_checkins",
    "load_weights",
    "parse_weights",
    "score",
    "score_rows",
    "sort_rows",
    "tally_facts",
]

_RULES = Path(__file__).with_name("case_rules.toml")


@dataclass(frozen=True, slots=True)
class Tally:
    """The counts behind one row; tallies of the same row add up (grids into their street)."""

    cases_handled: int = 0
    on_time: int = 0  # handled within the deadline
    timed: int = 0  # handled with a deadline known (the on-time denominator)
    reopened: int = 0  # handled and sent back at least once
    satisfaction_sum: int = 0
    satisfaction_n: int = 0
    verifications: int = 0
    verifications_passed: int = 0
    checkins: int = 0  # at most per_day per point and local day
    checkins_expected: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Tally)))


@dataclass(frozen=True, slots=True)
class ScoreWeights:
    """How much each part weighs in the composite score, and which verification results pass."""

    on_time: float = 40.0
    satisfaction: float = 30.0
    reopen: float = 15.0
    checkins: float = 15.0
    verification: float = 0.0
    pass_results: tuple[str, ...] = ("pass",)


def parse_weights(table: Mapping[str, Any]) -> ScoreWeights:
    """Weights from the ``[score]`` table of a rule file; ValueError names a bad entry.

    >>> parse_weights({"on_time": 50, "reopen": 0}).on_time, parse_weights({}).satisfaction
    (50.0, 30.0)
    """
    default = ScoreWeights()
    values: dict[str, Any] = {}
    for name in ("on_time", "satisfaction", "reopen", "checkins", "verification"):
        raw = table.get(name, getattr(default, name))
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0 or not math.isfinite(raw):
            raise ValueError(f"[score] {name} is a number of 0 or more")
        values[name] = float(raw)
    results = table.get("pass_results", list(default.pass_results))
    if not isinstance(results, list) or not all(isinstance(r, str) and r for r in results):
        raise ValueError("[score] pass_results is a list of result names")
    if not any(values.values()):
        raise ValueError("[score] needs at least one weight above 0")
    return ScoreWeights(**values, pass_results=tuple(results))


def load_weights(path: Path | None = None) -> ScoreWeights:
    """The ``[score]`` weights of a case rule file (the shipped one by default)."""
    data = tomllib.loads((path or _RULES).read_text(encoding="utf-8"))
    table = data.get("score", {})
    if not isinstance(table, dict):
        raise ValueError("[score] is a table")
    return parse_weights(table)


# -- facts: the same counting in plain Python (what the SQL in storage/ does, as a specification) --
@dataclass(frozen=True, slots=True)
class CaseFact:
    """A case handled in the period."""

    handled_by: str
    unit: str
    handled_on_time: bool | None
    reopen_count: int = 0
    satisfaction: int | None = None


@dataclass(frozen=True, slots=True)
class VerificationFact:
    """A verification task done in the period."""

    done_by: str
    unit: str
    result: str


@dataclass(frozen=True, slots=True)
class CheckinFact:
    """A patrol check-in in the period, on a local day."""

    username: str
    unit: str
    point: int
    day: date


def tally_facts(
    cases: Iterable[CaseFact],
    verifications: Iterable[VerificationFact],
    checkins: Iterable[CheckinFact],
    *,
    by_unit: bool,
    group: Callable[[str], str | None] = lambda key: key,
    per_day: int = 1,
    weights: ScoreWeights = ScoreWeights(),
) -> dict[str, Tally]:
    """Count facts into tallies per row: by person, or by unit mapped through ``group`` (None: dropped)."""
    out: dict[str, Tally] = {}

    def add(key: str | None, t: Tally) -> None:
        row = group(key) if key is not None else None
        if row is not None:
            out[row] = out.get(row, Tally()) + t

    for c in cases:
        add(
            c.unit if by_unit else c.handled_by,
            Tally(
                cases_handled=1,
                on_time=int(c.handled_on_time is True),
                timed=int(c.handled_on_time is not None),
                reopened=int(c.reopen_count > 0),
                satisfaction_sum=c.satisfaction or 0,
                satisfaction_n=int(c.satisfaction is not None),
            ),
        )
    for v in verifications:
        add(
            v.unit if by_unit else v.done_by,
            Tally(verifications=1, verifications_passed=int(v.result in weights.pass_results)),
        )
    visits: Counter[tuple[str, str, int, date]] = Counter()
    for k in checkins:
        key = k.unit if by_unit else k.username
        visits[(key, k.unit, k.point, k.day)] += 1
    for (key, _unit, _point, _day), n in visits.items():
        add(key, Tally(checkins=min(n, per_day)))
    return out


# -- rows -----------------------------------------------------------------------------------------
def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """One line of the scoreboard: a person or a unit, with its figures (None: nothing to divide by)."""

    key: str  # a username or a unit code
    name: str
    cases_handled: int
    on_time_rate: float | None
    reopen_rate: float | None
    satisfaction: float | None
    verification_rate: float | None
    checkins_done: int
    checkins_expected: int
    checkin_rate: float | None
    score: float | None

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON-ready values."""
        return {f.name: getattr(self, f.name) for f in fields(ScoreRow)}


def score(
    on_time_rate: float | None,
    satisfaction: float | None,
    reopen_rate: float | None,
    checkin_rate: float | None,
    verification_rate: float | None,
    weights: ScoreWeights,
) -> float | None:
    """The composite score 0–100 of the parts that have a value (None if none has).

    >>> score(1.0, 5.0, 0.0, 1.0, None, ScoreWeights())
    100.0
    >>> score(0.5, None, None, None, None, ScoreWeights())
    50.0
    >>> score(None, None, None, None, 1.0, ScoreWeights()) is None  # verification weighs 0 by default
    True
    """
    parts = (
        (weights.on_time, on_time_rate),
        (weights.satisfaction, None if satisfaction is None else (satisfaction - 1) / 4),
        (weights.reopen, None if reopen_rate is None else 1 - reopen_rate),
        (weights.checkins, None if checkin_rate is None else min(1.0, checkin_rate)),
        (weights.verification, verification_rate),
    )
    used = [(w, v) for w, v in parts if v is not None and w > 0]
    total = sum(w for w, _ in used)
    if total <= 0:
        return None
    return round(100 * sum(w * v for w, v in used) / total, 1)


def score_rows(tallies: Mapping[str, Tally], names: Mapping[str, str], weights: ScoreWeights) -> list[ScoreRow]:
    """One row per tally, with its rates and score; ``names`` labels the keys (the key if missing)."""
    rows = []
    for key, t in tallies.items():
        on_time = _ratio(t.on_time, t.timed)
        reopen = _ratio(t.reopened, t.cases_handled)
        sat = None if t.satisfaction_n == 0 else round(t.satisfaction_sum / t.satisfaction_n, 2)
        verification = _ratio(t.verifications_passed, t.verifications)
        checkin = _ratio(t.checkins, t.checkins_expected)
        rows.append(
            ScoreRow(
                key=key,
                name=names.get(key, key),
                cases_handled=t.cases_handled,
                on_time_rate=on_time,
                reopen_rate=reopen,
                satisfaction=sat,
                verification_rate=verification,
                checkins_done=t.checkins,
                checkins_expected=t.checkins_expected,
                checkin_rate=checkin,
                score=score(on_time, sat, reopen, checkin, verification, weights),
            )
        )
    return rows


class Format(enum.Enum):
    """How a column's value is shown."""

    TEXT = "text"
    COUNT = "count"
    PERCENT = "percent"
    MEAN = "mean"
    SCORE = "score"


@dataclass(frozen=True, slots=True)
class Column:
    """A scoreboard column: the row field, its catalog label and how it is shown."""

    key: str
    label_key: str  # "{by}" stands for worker or unit
    fmt: Format

    def label(self, by: str) -> str:
        """The catalog key of the column's header when rows are people ("worker") or units ("unit")."""
        return self.label_key.format(by=by)


COLUMNS: tuple[Column, ...] = (
    Column("key", "score.col.key.{by}", Format.TEXT),
    Column("name", "score.col.name.{by}", Format.TEXT),
    Column("cases_handled", "score.col.cases_handled", Format.COUNT),
    Column("on_time_rate", "score.col.on_time_rate", Format.PERCENT),
    Column("reopen_rate", "score.col.reopen_rate", Format.PERCENT),
    Column("satisfaction", "score.col.satisfaction", Format.MEAN),
    Column("verification_rate", "score.col.verification_rate", Format.PERCENT),
    Column("checkins_done", "score.col.checkins_done", Format.COUNT),
    Column("checkins_expected", "score.col.checkins_expected", Format.COUNT),
    Column("checkin_rate", "score.col.checkin_rate", Format.PERCENT),
    Column("score", "score.col.score", Format.SCORE),
)
SORT_KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS)
NONE_SHOWN = "—"


def display(value: object, fmt: Format) -> str:
    """A value as the table and the CSV show it; None is "—".

    >>> display(0.8333, Format.PERCENT), display(None, Format.PERCENT), display(4.5, Format.MEAN)
    ('83.3%', '—', '4.50')
    """
    if value is None:
        return NONE_SHOWN
    if fmt is Format.PERCENT:
        return f"{float(value) * 100:.1f}%"  # type: ignore[arg-type]
    if fmt is Format.MEAN:
        return f"{float(value):.2f}"  # type: ignore[arg-type]
    if fmt is Format.SCORE:
        return f"{float(value):.1f}"  # type: ignore[arg-type]
    return str(value)


def sort_rows(rows: Sequence[ScoreRow], key: str, *, descending: bool = True) -> list[ScoreRow]:
    """Rows ordered by one field; rows without a value come last either way, ties by key."""
    if key not in SORT_KEYS:
        raise ValueError(f"sort: unknown key {key!r} (one of {', '.join(SORT_KEYS)})")
    present = [r for r in rows if getattr(r, key) is not None]
    missing = sorted((r for r in rows if getattr(r, key) is None), key=lambda r: r.key)
    present.sort(key=lambda r: r.key)
    present.sort(key=lambda r: getattr(r, key), reverse=descending)
    return present + missing


def expected_checkins(points: Mapping[str, int], days: int, per_day: int) -> dict[str, Tally]:
    """The check-ins each row owes: its patrol points × local days × visits per point and day.

    >>> expected_checkins({"g1": 3}, 7, 1)["g1"].checkins_expected
    21
    """
    return {key: Tally(checkins_expected=n * max(0, days) * max(0, per_day)) for key, n in points.items()}
