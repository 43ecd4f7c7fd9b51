"""Rows of a recording become a device's events: which column, which alarm, which id, when."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.devices import Device, DeviceType
from domain.sensor_replay import BadRow, FeedConverter, UnsupportedDevice, replay_event_id

SMOKE = Device("SMOKE-1", DeviceType.SMOKE, 118.8, 32.0, "G1")
TS = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def row(t: int, pm25: str = "0.5", alarm: str = "0") -> dict[str, str | None]:
    return {"UTC": str(t), "PM2.5": pm25, "Fire Alarm": alarm, "Temperature[C]": "21.5", "TVOC[ppb]": "12"}


def kinds(converter: FeedConverter, rows: list[dict[str, str | None]]) -> list[list[str]]:
    return [[e.payload.kind for e in converter.events(converter.read(i, r), TS)] for i, r in enumerate(rows)]


def test_a_smoke_detector_reports_pm25_and_one_alarm_per_rising_edge() -> None:
    c = FeedConverter(SMOKE)
    rows = [row(0), row(1, alarm="1"), row(2, alarm="1"), row(3), row(4, alarm="1")]
    reading, alarm = "sensor_reading", "alarm"
    assert kinds(c, rows) == [[reading], [reading, alarm], [reading], [reading], [reading, alarm]]
    first = FeedConverter(SMOKE)
    [reading_event, alarm_event] = first.events(first.read(7, row(0, "3.25", "1")), TS)
    assert reading_event.payload.model_dump() == {"kind": "sensor_reading", "value": 3.25, "unit": "ug/m3"}
    assert alarm_event.payload.model_dump() == {"kind": "alarm", "alarm": "smoke"}
    assert (reading_event.lon, reading_event.lat, reading_event.ts) == (118.8, 32.0, TS)
    assert alarm_event.event_id == replay_event_id("SMOKE-1", 7, "alarm") != reading_event.event_id


def test_skipped_rows_carry_the_alarm_state_over() -> None:
    c = FeedConverter(SMOKE)
    c.skip(c.read(0, row(0, alarm="1")))
    assert kinds(c, [row(1, alarm="1")]) == [["sensor_reading"]]


@pytest.mark.parametrize(
    ("device_type", "value", "unit"),
    [(DeviceType.TEMPERATURE, 21.5, "celsius"), (DeviceType.GAS, 12.0, "ppb")],
)
def test_other_sensors_read_their_own_column_and_raise_no_alarm(
    device_type: DeviceType, value: float, unit: str
) -> None:
    c = FeedConverter(Device("S", device_type, 0.0, 0.0, "G"))
    [event] = c.events(c.read(0, row(0, alarm="1")), TS)
    assert event.payload.model_dump() == {"kind": "sensor_reading", "value": value, "unit": unit}


@pytest.mark.parametrize("bad", [row(0, pm25=""), row(0, pm25="nan"), row(0, pm25="inf"), {"UTC": "x", "PM2.5": "1"}])
def test_a_row_without_numbers_is_refused_with_a_reason(bad: dict[str, str | None]) -> None:
    with pytest.raises(BadRow, match="not a"):
        FeedConverter(SMOKE).read(0, bad)


def test_a_gate_cannot_replay_a_sensor_recording() -> None:
    with pytest.raises(UnsupportedDevice, match="gas, smoke, temperature"):
        FeedConverter(Device("G", DeviceType.GATE, 0.0, 0.0, "G"))


def test_offsets_scale_with_speed_and_never_go_back() -> None:
    c = FeedConverter(SMOKE)
    offsets = [c.offset_s(c.read(i, row(t)), 2.0) for i, t in enumerate([100, 104, 103, 110])]
    assert offsets == [0.0, 2.0, 2.0, 5.0]
    fast = FeedConverter(SMOKE)
    assert [fast.offset_s(fast.read(i, row(t)), 0.0) for i, t in enumerate([100, 200])] == [0.0, 0.0]
