"""Build wire events for tests."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from geo.hierarchy import Unit

_RESIDENT_IN = {"kind": "gate_pass", "direction": "in", "person": "resident", "health_code": "green"}


def gate_event(
    lon: float,
    lat: float,
    *,
    event_id: uuid.UUID | None = None,
    device: str = "D1",
    device_type: str = "gate",
    payload: dict[str, object] | None = None,
    health_code: str = "green",
) -> str:
    """A valid event at a point: a resident's gate pass unless another payload is given."""
    return json.dumps(
        {
            "event_id": str(event_id or uuid.uuid4()),
            "device_id": device,
            "device_type": device_type,
            "ts": datetime.now(UTC).isoformat(),
            "lon": lon,
            "lat": lat,
            "payload": payload or {**_RESIDENT_IN, "health_code": health_code},
        }
    )


def inside(unit: Unit) -> tuple[float, float]:
    """A point strictly inside a unit."""
    p = unit.geometry.representative_point()
    return p.x, p.y


def alarm_event(lon: float, lat: float, *, alarm: str = "button", device: str = "AB1") -> str:
    """A valid alarm event (one-button by default: a critical alert) at a point."""
    device_type = {"button": "alarm_button", "smoke": "smoke", "gas": "gas"}.get(alarm, "alarm_button")
    return json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "device_id": device,
            "device_type": device_type,
            "ts": datetime.now(UTC).isoformat(),
            "lon": lon,
            "lat": lat,
            "payload": {"kind": "alarm", "alarm": alarm},
        }
    )


def temperature_event(lon: float, lat: float, value: float, *, device: str = "TMP1") -> str:
    """A temperature reading (over 60 °C fires the warning rule) at a point."""
    return json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "device_id": device,
            "device_type": "temperature",
            "ts": datetime.now(UTC).isoformat(),
            "lon": lon,
            "lat": lat,
            "payload": {"kind": "sensor_reading", "value": value, "unit": "C"},
        }
    )
