"""The already-scoped series the leaders' charts are drawn from, one row type per shape of data.

The data layer scopes and queries; these rows are all the charts know. Rows need not be sorted
or unique: a chart sums rows that share a day (or unit) and key, and sorts its own axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

__all__ = ["DailyCount", "DailyRate", "DailyScore", "HourlyFlow", "UnitCount", "UnitRate"]


@dataclass(frozen=True, slots=True)
class DailyCount:
    """How many things of one key (a case category, hotline topic or alert type) happened on one day.

    The key is shown as is, so the data layer passes the name in the viewer's language
    (categories, topics and alert types are the city's configuration, not catalog strings).
    """

    day: date
    key: str
    count: int


@dataclass(frozen=True, slots=True)
class DailyRate:
    """How many of a day's total were done (cases closed on time, patrol check-ins made)."""

    day: date
    done: int
    total: int


@dataclass(frozen=True, slots=True)
class DailyScore:
    """How many satisfaction ratings of one score (1 worst to 5 best) were given on one day."""

    day: date
    score: int
    count: int


@dataclass(frozen=True, slots=True)
class UnitCount:
    """How many of one key (a case category, a health-code colour) one child unit of the viewer's unit has.

    For health codes the key is "green", "yellow" or "red" (domain.events.HealthCode; "none" and
    other keys are left out of that chart); otherwise it is shown as is, like DailyCount's.
    """

    code: str
    name: str
    key: str
    count: int


@dataclass(frozen=True, slots=True)
class UnitRate:
    """How many of a child unit's total are up (devices online of all its devices)."""

    code: str
    name: str
    done: int
    total: int


@dataclass(frozen=True, slots=True)
class HourlyFlow:
    """How many people of one kind passed the gates in one direction in one hour.

    The hour is local wall-clock time (an aware time is drawn at its own wall-clock time);
    direction is "in" or "out", person "resident", "visitor" or "unknown" (domain.events).
    """

    hour: datetime
    direction: str
    person: str
    count: int
