"""The figures a leader reads first about one unit: activity, devices, alerts and cases.

A pure function of the unit's stored aggregates (see streams/unit_stats.py for the document)
and three counts, so the side panel and any export show the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["UnitKpi", "unit_kpis"]


@dataclass(frozen=True, slots=True)
class UnitKpi:
    """One figure: its catalog key, its value as shown, and whether it calls for attention."""

    key: str
    value: str
    alarm: bool = False


def _window_total(doc: Mapping[str, object], window: str, prefix: str = "t.") -> float:
    figures = doc.get(window)
    if not isinstance(figures, Mapping):
        return 0.0
    return float(sum(v for k, v in figures.items() if k.startswith(prefix) and isinstance(v, int | float)))


def _counter(doc: Mapping[str, object], window: str, name: str) -> float:
    figures = doc.get(window)
    value = figures.get(name, 0) if isinstance(figures, Mapping) else 0
    return float(value) if isinstance(value, int | float) else 0.0


def unit_kpis(doc: Mapping[str, object], *, open_alerts: int, open_cases: int, overdue_cases: int) -> list[UnitKpi]:
    """The unit's headline figures; "—" where the unit has no figure yet (never a fake 0 %).

    >>> [k.value for k in unit_kpis({"devices": {"online": 9, "total": 10}}, open_alerts=0, open_cases=2,
    ...                               overdue_cases=1)]
    ['0', '0', '0', '90.0 %', '0', '2', '1']
    """
    devices = doc.get("devices")
    online = total = 0
    if isinstance(devices, Mapping):
        online, total = int(devices.get("online", 0)), int(devices.get("total", 0))
    rate = f"{100.0 * online / total:.1f} %" if total else "—"
    return [
        UnitKpi("unit.events_hour", f"{_window_total(doc, 'hour'):,.0f}"),
        UnitKpi("unit.gate_today", f"{_counter(doc, 'today', 't.gate_pass'):,.0f}"),
        UnitKpi("unit.alarms_today", f"{_counter(doc, 'today', 't.alarm'):,.0f}"),
        UnitKpi("unit.devices_online", rate, alarm=bool(total) and online / total < 0.9),
        UnitKpi("unit.open_alerts", f"{open_alerts:,}", alarm=open_alerts > 0),
        UnitKpi("unit.open_cases", f"{open_cases:,}"),
        UnitKpi("unit.overdue_cases", f"{overdue_cases:,}", alarm=overdue_cases > 0),
    ]
