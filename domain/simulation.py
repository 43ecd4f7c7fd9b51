"""Realistic demo events for a registry of devices, deterministic from a seed.

Activity is uneven on purpose, as in a real city: a few busy centres (smooth bumps over
the map) times a lognormal factor per grid, so some streets are hot and most are quiet.
Heartbeats sweep every live device in turn, so each reports within the online window; a
small share of devices is dead and never reports, so "online" is not trivially 100 %.
"""

from __future__ import annotations

import itertools
import math
import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from domain.devices import Device, DeviceType
from domain.events import Alarm, Event, FaceCapture, GatePass, Heartbeat, SensorReading, VehiclePass

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
        self,
        devices: Sequence[Device],
        seed: int = 1,
        *,
        alarm_ratio: float = 0.002,
        heartbeat_share: float = 0.35,
        dead_share: float = 0.03,
        centres: int = 6,
    ) -> None:
        if not devices:
            raise ValueError("the simulator needs at least one registered device")
        self._rng = random.Random(seed)
        rng = self._rng
        self.alarm_ratio = alarm_ratio
        self.heartbeat_share = heartbeat_share
        live = [d for d in devices if rng.random() >= dead_share] or list(devices)
        self._devices = live
        lons = [d.lon for d in live]
        lats = [d.lat for d in live]
        span = max(max(lons) - min(lons), max(lats) - min(lats), 1e-6)
        bumps = [
            (
                rng.uniform(min(lons), max(lons)),
                rng.uniform(min(lats), max(lats)),
                span * rng.uniform(0.05, 0.15),
                rng.uniform(1.0, 6.0),
            )
            for _ in range(centres)
        ]
        grid_weight: dict[str, float] = {}
        for d in live:
            if d.grid_code not in grid_weight:
                field = 0.15 + sum(
                    h * math.exp(-((d.lon - x) ** 2 + (d.lat - y) ** 2) / (2 * r * r)) for x, y, r, h in bumps
                )
                grid_weight[d.grid_code] = field * rng.lognormvariate(0.0, 0.8)
        self._cum = list(itertools.accumulate(grid_weight[d.grid_code] for d in live))
        self._sweep = list(live)
        rng.shuffle(self._sweep)
        self._sweep_at = 0

    def pick_device(self) -> Device:
        """Pick a device, weighted by how busy its grid is."""
        return self._rng.choices(self._devices, cum_weights=self._cum, k=1)[0]

    def next_heartbeat_device(self) -> Device:
        """Return the next device of the heartbeat sweep."""
        d = self._sweep[self._sweep_at]
        self._sweep_at = (self._sweep_at + 1) % len(self._sweep)
        return d

    def next_event(self, now: datetime | None = None, device: Device | None = None) -> Event:
        """Return one event: a heartbeat of the sweep, or activity of a (weighted) device."""
        rng = self._rng
        heartbeat = device is None and rng.random() < self.heartbeat_share
        d = device or (self.next_heartbeat_device() if heartbeat else self.pick_device())
        ts = now or datetime.now(UTC)
        payload: Heartbeat | GatePass | SensorReading | Alarm | VehiclePass | FaceCapture
        if heartbeat:
            payload = Heartbeat(battery=round(rng.uniform(20, 100), 1), signal=round(rng.uniform(-110, -50), 1))
        elif d.device_type in _ALARMS and rng.random() < self.alarm_ratio:
            payload = Alarm(alarm=_ALARMS[d.device_type])  # type: ignore[arg-type]
        elif d.device_type is DeviceType.GATE:
            visitor = rng.random() < 0.2
            code = rng.choices(["green", "yellow", "red", "none"], weights=[90, 5, 1, 4])[0]
            payload = GatePass(
                direction=rng.choice(["in", "out"]),
                person="visitor" if visitor else "resident",
                health_code=code,  # type: ignore[arg-type]
                visitor_registration=f"V{rng.randrange(10**8):08d}" if visitor and rng.random() < 0.7 else None,
            )
        elif d.device_type is DeviceType.VEHICLE_CAMERA:
            plate = "苏A" + "".join(rng.choices("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", k=5))
            payload = VehiclePass(
                direction=rng.choice(["in", "out"]), plate=plate, watchlist_hit=rng.random() < self.alarm_ratio
            )
        elif d.device_type is DeviceType.FACE_CAMERA:
            hit = rng.random() < self.alarm_ratio
            payload = FaceCapture(
                watchlist_hit=hit,
                score=round(rng.uniform(0.85, 0.99) if hit else rng.uniform(0.0, 0.6), 3),
                watchlist_id=f"W{rng.randrange(10**6):06d}" if hit else None,
            )
        elif d.device_type in _SENSOR_UNITS:
            unit, mean, sd = _SENSOR_UNITS[d.device_type]
            payload = SensorReading(value=round(max(0.0, rng.gauss(mean, sd)), 2), unit=unit)
        else:
            payload = Heartbeat(battery=None, signal=round(rng.uniform(-110, -50), 1))
        return Event(
            event_id=uuid.uuid4(),  # unique across runs: a restarted simulator must not repeat ids
            device_id=d.device_id,
            device_type=d.device_type,
            ts=ts,
            lon=d.lon,
            lat=d.lat,
            payload=payload,
        )
