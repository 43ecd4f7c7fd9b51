"""KPI descriptions as data: adding a KPI is adding one entry to KPIS."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["KPIS", "KpiDescription", "KpiSnapshot", "render_kpis"]


@dataclass(frozen=True, slots=True)
class KpiSnapshot:
    """Raw city-wide figures the aggregator measures each tick."""

    events_in_window: int = 0
    events_per_second: float = 0.0
    active_grids: int = 0
    total_grids: int = 0
    devices_online: int = 0
    devices_total: int = 0
    dead_letters: int = 0

    def as_dict(self) -> dict[str, float]:
        """Return the snapshot as a JSON-friendly mapping."""
        return {k: getattr(self, k) for k in self.__slots__}

    @classmethod
    def from_mapping(cls, data: Mapping[str, float]) -> KpiSnapshot:
        """Rebuild a snapshot, ignoring unknown keys."""
        kwargs = {k: data[k] for k in cls.__slots__ if k in data}
        return cls(**kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class KpiDescription:
    """How one KPI is labelled and computed from a snapshot."""

    key: str
    label_key: str
    value_fn: Callable[[KpiSnapshot], str]


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "—"


KPIS: tuple[KpiDescription, ...] = (
    KpiDescription("events_per_second", "kpi.events_per_second", lambda s: f"{s.events_per_second:,.1f}"),
    KpiDescription("events_in_window", "kpi.events_in_window", lambda s: f"{s.events_in_window:,}"),
    KpiDescription("active_grids", "kpi.active_grids", lambda s: f"{s.active_grids:,} / {s.total_grids:,}"),
    KpiDescription("devices_online", "kpi.devices_online", lambda s: _pct(s.devices_online, s.devices_total)),
    KpiDescription("dead_letters", "kpi.dead_letters", lambda s: f"{s.dead_letters:,}"),
)


def render_kpis(snapshot: KpiSnapshot) -> list[str]:
    """Format every KPI value in KPIS order."""
    return [k.value_fn(snapshot) for k in KPIS]
