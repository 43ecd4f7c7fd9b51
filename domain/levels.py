"""The live map metric and how a value becomes a colour level.

The map metric is "events per grid in the sliding window". A higher unit (community,
street, district) shows the mean over its grids, so colours are comparable across levels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LEVEL_COLOURS", "LEVEL_THRESHOLDS", "LegendEntry", "classify", "legend"]

# Lower bounds (inclusive) of levels 1..4, in events per grid per window.
LEVEL_THRESHOLDS: tuple[float, ...] = (1.0, 5.0, 15.0, 40.0)
LEVEL_COLOURS: tuple[str, ...] = ("#1b2a3a", "#1f6f5c", "#c9a227", "#e0662b", "#d7263d")


def classify(value: float, thresholds: Sequence[float] = LEVEL_THRESHOLDS) -> int:
    """Return the colour level (0 = quiet .. len(thresholds) = hottest) of a metric value.

    >>> [classify(v) for v in (0, 2, 7, 20, 50)]
    [0, 1, 2, 3, 4]
    """
    level = 0
    for bound in thresholds:
        if value >= bound:
            level += 1
        else:
            break
    return level


@dataclass(frozen=True, slots=True)
class LegendEntry:
    """One row of the map legend."""

    level: int
    colour: str
    lower: float
    upper: float | None


def legend(thresholds: Sequence[float] = LEVEL_THRESHOLDS) -> list[LegendEntry]:
    """Describe every level with its colour and value range, for the legend."""
    bounds = [0.0, *thresholds]
    entries = []
    for level, lower in enumerate(bounds):
        upper = bounds[level + 1] if level + 1 < len(bounds) else None
        entries.append(LegendEntry(level, LEVEL_COLOURS[level], lower, upper))
    return entries
