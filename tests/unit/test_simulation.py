from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from domain.devices import Device, DeviceType
from domain.events import parse_event
from domain.simulation import EventFactory

DEVICES = [
    Device(f"D{i:04d}", t, 118.8 + i * 1e-4, 32.0, f"G{i // 3:03d}") for i, t in enumerate(list(DeviceType) * 30)
]
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_every_event_is_valid_on_the_wire() -> None:
    factory = EventFactory(DEVICES, seed=3, alarm_ratio=0.05)
    kinds = Counter()
    for _ in range(2000):
        event = factory.next_event(NOW)
        assert parse_event(event.to_json()) == event
        kinds[event.type.value] += 1
    assert set(kinds) == {"heartbeat", "gate_pass", "sensor_reading", "alarm", "vehicle_pass", "face_capture"}


def test_same_seed_same_events() -> None:
    fa, fb = EventFactory(DEVICES, seed=9), EventFactory(DEVICES, seed=9)
    a = [fa.next_event(NOW).model_dump(exclude={"event_id"}) for _ in range(50)]
    b = [fb.next_event(NOW).model_dump(exclude={"event_id"}) for _ in range(50)]
    assert a == b


def test_event_ids_never_repeat_across_runs() -> None:
    ids = {EventFactory(DEVICES, seed=9).next_event(NOW).event_id for _ in range(20)}
    assert len(ids) == 20


def test_activity_is_uneven_across_grids() -> None:
    factory = EventFactory(DEVICES, seed=5)
    per_grid = Counter(factory.pick_device().grid_code for _ in range(20000))
    counts = sorted(per_grid.values())
    assert counts[-1] > 4 * counts[len(counts) // 2]


def test_needs_devices() -> None:
    with pytest.raises(ValueError, match="device"):
        EventFactory([], seed=1)
