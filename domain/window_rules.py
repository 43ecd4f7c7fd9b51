"""Rules over a unit's counts in a window: a visitor surge at a community, a grid far above its own rate.

A unit's figures are the documents of the unit aggregates (docs/aggregates.md): per window
(``minute``, ``hour``, ``today``) a mapping of counter -> count. A rule either compares one
counter with an absolute ``threshold``, or (``factor``) the last minute's count with the unit's
own average minute over the last hour, and needs at least ``min_events`` in the minute, so a
quiet grid's single event is no hotspot. ``activity`` is every event but heartbeats.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["ACTIVITY", "fires", "value_of"]

ACTIVITY = "activity"
Figures = Mapping[str, Mapping[str, float]]


def value_of(figures: Figures, window: str, counter: str) -> float:
    """Return a counter's count in a window (``activity``: every kind but heartbeats).

    >>> value_of({"hour": {"t.gate_pass": 3, "t.heartbeat": 9, "t.alarm": 1}}, "hour", "activity")
    4.0
    """
    counts = figures.get(window, {})
    if counter == ACTIVITY:
        return float(sum(v for k, v in counts.items() if k.startswith("t.") and k != "t.heartbeat"))
    return float(counts.get(counter, 0))


def fires(params: Mapping[str, object], figures: Figures) -> bool:
    """Whether a unit_window rule's condition holds for a unit's figures.

    >>> surge = {"window": "hour", "counter": "g.unregistered", "threshold": 30.0}
    >>> fires(surge, {"hour": {"g.unregistered": 31}}), fires(surge, {"hour": {"g.unregistered": 5}})
    (True, False)
    >>> hot = {"window": "minute", "counter": "activity", "factor": 5.0, "min_events": 20.0}
    >>> fires(hot, {"minute": {"t.alarm": 30}, "hour": {"t.alarm": 120}})  # 30 >= 5 x 2 a minute
    True
    >>> fires(hot, {"minute": {"t.alarm": 30}, "hour": {"t.alarm": 600}})  # 30 < 5 x 10
    False
    """
    counter = str(params["counter"])
    if "threshold" in params:
        return value_of(figures, str(params["window"]), counter) >= float(str(params["threshold"]))
    minute = value_of(figures, "minute", counter)
    per_minute = value_of(figures, "hour", counter) / 60.0
    return minute >= float(str(params.get("min_events", 1))) and minute >= float(str(params["factor"])) * per_minute
