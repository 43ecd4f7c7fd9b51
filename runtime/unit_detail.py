"""What the leader's side panel shows about one unit: its figures, and at grid level who and what is there.

Everything is read on the server for a principal and a unit already checked to be in their
jurisdiction; lists are cut to a screenful, with the count of what was left out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import redis

from domain.permissions import Principal, Role
from domain.unit_kpis import UnitKpi, unit_kpis
from geo.hierarchy import Hierarchy, Level
from runtime.alert_actions import AlertActions
from runtime.case_service import CaseService
from storage.case_repository import CaseFilter
from storage.device_repository import ACTIVE, DeviceRepository
from storage.user_repository import UserRepository
from streams.keys import RedisKeys
from streams.unit_stats import read_unit_stats

__all__ = ["DeviceState", "GridDetail", "UnitDetail", "UnitSummary"]

SHOWN = 8  # rows of each list in the panel


@dataclass(frozen=True, slots=True)
class DeviceState:
    """A device of the grid and whether it reported within the online window."""

    device_id: str
    device_type: str
    online: bool


@dataclass(frozen=True, slots=True)
class GridDetail:
    """Who and what is in one grid."""

    workers: list[str]
    devices: list[DeviceState]
    cases: list[dict[str, Any]]
    cases_total: int
    alerts: list[dict[str, Any]]
    alerts_total: int


@dataclass(frozen=True, slots=True)
class UnitSummary:
    """The side panel of one unit."""

    code: str
    name: str
    level: Level
    kpis: list[UnitKpi]
    grid: GridDetail | None = field(default=None)


class UnitDetail:
    """Read a unit's summary for a principal (the caller checks jurisdiction first)."""

    def __init__(
        self,
        hierarchy: Hierarchy,
        client: redis.Redis,
        keys: RedisKeys,
        cases: CaseService,
        alerts: AlertActions,
        users: UserRepository,
        devices: DeviceRepository,
        *,
        online_s: float,
    ) -> None:
        self._h = hierarchy
        self._r = client
        self._keys = keys
        self._cases = cases
        self._alerts = alerts
        self._users = users
        self._devices = devices
        self._online_s = online_s

    def summary(self, principal: Principal, code: str, lang: str) -> UnitSummary:
        """The unit's figures, and the grid's people, devices, cases and alerts at grid level."""
        unit = self._h.get(code)
        doc = read_unit_stats(self._r, self._keys, [code])["units"]
        assert isinstance(doc, dict)
        alerts = self._alerts.open_for(principal, unit=code).alerts
        now = self._cases.now()
        open_cases = CaseFilter(open_only=True, limit=SHOWN)
        cases_total = self._cases.count(principal, open_cases, within=code)
        overdue = self._cases.count(principal, CaseFilter(open_only=True, overdue_at=now), within=code)
        kpis = unit_kpis(doc.get(code) or {}, open_alerts=len(alerts), open_cases=cases_total, overdue_cases=overdue)
        grid = None
        if unit.level is Level.GRID:
            cases = self._cases.find(principal, open_cases, within=code)
            grid = GridDetail(
                workers=[u.display_name or u.username for u in self._users.at_unit(code, Role.GRID_WORKER)],
                devices=self._device_states(code),
                cases=[self._cases.wire(c, lang, now=now) for c in cases],
                cases_total=cases_total,
                alerts=alerts[:SHOWN],
                alerts_total=len(alerts),
            )
        return UnitSummary(code, unit.name, unit.level, kpis, grid)

    def _device_states(self, grid: str) -> list[DeviceState]:
        records = [r for r in self._devices.in_grid(grid) if r.status == ACTIVE]
        pipe = self._r.pipeline(transaction=False)
        for r in records:
            pipe.zscore(self._keys.devices_seen, r.device.device_id)
        cutoff = (time.time() - self._online_s) * 1000
        return [
            DeviceState(r.device.device_id, r.device.device_type.value, seen is not None and seen >= cutoff)
            for r, seen in zip(records, pipe.execute(), strict=True)
        ]
