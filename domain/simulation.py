"""Realistic demo events for a registry of devices, deterministic from a seed.

Activity is uneven on purpose: each grid gets a lognormal activity weight, so a few
grids are hot and most are quiet, as in a real city, and the map shows contrast.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from domain.devices import Device, DeviceType
from domain.events import Alarm, Event, GatePass, Heartbeat, SensorReading

__all__ = ["EventFactory"]

_SENSOR_UNITS = {
    DeviceType.SMOKE: ("obscuration_pct", 0.2, 0.15),
    DeviceType.TEMPERATURE: ("celsius", 24.0, 4.0),
    DeviceType.GAS: ("ppm", 3.0, 1.5),
    DeviceType.WATER_METER: ("m3", 120.0, 30.0),
    DeviceType.POWER_METER: ("kwh", 800.0, 200.0),
}
_ALARMS = {
    DeviceType.SMOKE: "smoke",
    DeviceType.GAS: "gas",
    DeviceType.ALARM_BUTTON: "button",
    DeviceType.INFRARED: "intrusion",
    DeviceType.TEMPERATURE: "temperature",
}


class EventFactory:
    """Draw plausible events for the given devices."""

    def __init__(
        self, devices: Sequence[Device], seed: int = 1, *, alarm_ratio: float = 0.002
    ) -> None:
        if not devices:
            raise ValueError("the simulator needs at least one registered device")
        self._devices = list(devices)
        self._rng = random.Random(seed)
        self.alarm_ratio = alarm_ratio
        grid_weight: dict[str, float] = {}
        for d in self._devices:
            if d.grid_code not in grid_weight:
                grid_weight[d.grid_code] = self._rng.lognormvariate(0.0, 1.3)
        self._cum = list(itertools.accumulate(grid_weight[d.grid_code] for d in self._devices))

    def pick_device(self) -> Device:
        """Pick a device, weighted by how busy its grid is."""
        return self._rng.choices(self._devices, cum_weights=self._cum, k=1)[0]

    def next_event(self, now: datetime | None = None, device: Device | None = None) -> Event:
        """Return one event from a (random) device."""
        d = device or self.pick_device()
        ts = now or datetime.now(UTC)
        rng = self._rng
        payload: Heartbeat | GatePass | SensorReading | Alarm
        if d.device_type in _ALARMS and rng.random() < self.alarm_ratio:
            payload = Alarm(alarm=_ALARMS[d.device_type])  # type: ignore[arg-type]
        elif rng.random() < 0.25:
            payload = Heartbeat(battery=round(rng.uniform(20, 100), 1), signal=round(rng.uniform(-110, -50), 1))
        elif d.device_type is DeviceType.GATE:
            visitor = rng.random() < 0.2
            code = rng.choices(["green", "yellow", "red", "none"], weights=[90, 5, 1, 4])[0]
            payload = GatePass(
                direction=rng.choice(["in", "out"]),
                person="visitor" if visitor else "resident",
                health_code=code,  # type: ignore[arg-type]
                visitor_registration=f"V{rng.randrange(10**8):08d}" if visitor and rng.random() < 0.7 else None,
            )
        elif d.device_type in _SENSOR_UNITS:
            unit, mean, sd = _SENSOR_UNITS[d.device_type]
            payload = SensorReading(value=round(max(0.0, rng.gauss(mean, sd)), 2), unit=unit)
        else:
            payload = Heartbeat(battery=None, signal=round(rng.uniform(-110, -50), 1))
        return Event(
            event_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            device_id=d.device_id,
            device_type=d.device_type,
            ts=ts,
            lon=d.lon,
            lat=d.lat,
            payload=payload,
        )
