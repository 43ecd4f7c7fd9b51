"""The arithmetic the charts share, apart from the drawing: sums, rankings, folding, calendars."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import TypeVar

__all__ = ["day_span", "fold", "pair_sums", "percent", "sums", "unit_labels", "wall_clock"]

K = TypeVar("K", bound=Hashable)


def sums(pairs: Iterable[tuple[K, int]]) -> dict[K, int]:
    """Add up the counts of pairs that share a key, keeping the first-seen order of keys.

    >>> sums([("a", 1), ("b", 2), ("a", 3)])
    {'a': 4, 'b': 2}
    """
    out: dict[K, int] = {}
    for key, count in pairs:
        out[key] = out.get(key, 0) + count
    return out


def fold(totals: Mapping[str, int], top_n: int, other: str) -> tuple[list[str], frozenset[str]]:
    """Split keys into the top_n largest (largest first, ties by name) and the rest, which fold into other.

    A key that is already called like other always folds, so "Other" is never drawn twice.

    >>> kept, rest = fold({"a": 5, "b": 9, "c": 1, "d": 5, "Other": 2}, 2, "Other")
    >>> kept, sorted(rest)
    (['b', 'a'], ['Other', 'c', 'd'])
    """
    if top_n < 0:
        raise ValueError(f"top_n must not be negative, got {top_n}")
    order = sorted((k for k in totals if k != other), key=lambda k: (-totals[k], k))
    rest = set(order[top_n:]) | ({other} & totals.keys())
    return order[:top_n], frozenset(rest)


def day_span(days: Iterable[date]) -> list[date]:
    """Return every day from the first to the last, so a day without data is a gap, not skipped.

    >>> [d.day for d in day_span([date(2024, 3, 3), date(2024, 3, 1)])]
    [1, 2, 3]
    """
    present = set(days)
    if not present:
        return []
    first, last = min(present), max(present)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def percent(done: int, total: int) -> float | None:
    """Return done as a percentage of total, rounded to 0.1, or None when there is nothing to rate.

    >>> percent(3, 4), percent(0, 0)
    (75.0, None)
    """
    return round(100.0 * done / total, 1) if total > 0 else None


def wall_clock(moment: datetime) -> datetime:
    """Drop the time zone but keep the wall-clock time, as plotly.js draws it (and so naive and aware sort)."""
    return moment.replace(tzinfo=None)


def pair_sums(triples: Iterable[tuple[K, int, int]]) -> dict[K, tuple[int, int]]:
    """Add up (done, total) pairs that share a key.

    >>> pair_sums([("a", 1, 2), ("a", 2, 2), ("b", 0, 0)])
    {'a': (3, 4), 'b': (0, 0)}
    """
    out: dict[K, tuple[int, int]] = {}
    for key, done, total in triples:
        was_done, was_total = out.get(key, (0, 0))
        out[key] = (was_done + done, was_total + total)
    return out


def unit_labels(units: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Label units (code, name) by their first-seen name, adding the code where two units share a name.

    >>> unit_labels([("A1", "新村"), ("A2", "新村"), ("B", "梅园"), ("B", "梅园社区")])
    {'A1': '新村 (A1)', 'A2': '新村 (A2)', 'B': '梅园'}
    """
    names: dict[str, str] = {}
    for code, name in units:
        names.setdefault(code, name)
    seen = sums((name, 1) for name in names.values())
    return {code: f"{name} ({code})" if seen[name] > 1 else name for code, name in names.items()}
