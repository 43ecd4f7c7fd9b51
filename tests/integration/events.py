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
            "payload": payload or _RESIDENT_IN,
        }
    )


def inside(unit: Unit) -> tuple[float, float]:
    """A point strictly inside a unit."""
    p = unit.geometry.representative_point()
    return p.x, p.y
