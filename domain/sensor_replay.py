"""A recorded sensor time series turned into one registered device's events, row by row.

The recording is a CSV with a ``UTC`` column (epoch seconds) and one column per measured
quantity, like the public smoke-detection series in ``shared/data/iot`` (one row a second).
Which column becomes the device's ``sensor_reading`` depends on the device's type:

- ``smoke``: ``PM2.5`` in ``ug/m3``; ``Fire Alarm`` going from 0 to 1 is an ``alarm: smoke``;
- ``temperature``: ``Temperature[C]`` in ``celsius`` (the temperature rule reads the value itself);
- ``gas``: ``TVOC[ppb]`` in ``ppb``.

Fine particles are what an optical smoke detector sees, so PM2.5 is the smoke reading; the
shipped smoke rule clears on a reading below 1.0, which in this series is clean air. Only a
rising edge of ``Fire Alarm`` is an alarm: the column stays 1 for as long as the alarm lasts,
and one alarm per edge is what a detector sends. A first row already at 1 counts as an edge.

Each event's id is a UUID5 of the device, the row's position in the file and the event's
kind, so replaying the same rows again counts once within the dedup window.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from domain.devices import Device, DeviceType
from domain.events import Alarm, Event, SensorReading

__all__ = [
    "FEED_MAPPINGS",
    "REPLAY_NAMESPACE",
    "TIME_COLUMN",
    "BadRow",
    "FeedConverter",
    "FeedMapping",
    "FeedRow",
    "UnsupportedDevice",
    "replay_event_id",
]

TIME_COLUMN = "UTC"
REPLAY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://gridwatch.invalid/replay")


class BadRow(ValueError):
    """A row of the recording cannot be used; the message says why."""


class UnsupportedDevice(ValueError):
    """No mapping turns a recording into events of this device type."""


@dataclass(frozen=True, slots=True)
class FeedMapping:
    """Which column of a recording feeds a device type's readings, and which one its alarms."""

    column: str
    unit: str
    alarm_column: str | None = None
    alarm: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns a recording must have for this mapping."""
        return tuple(c for c in (TIME_COLUMN, self.column, self.alarm_column) if c)


FEED_MAPPINGS: Mapping[DeviceType, FeedMapping] = {
    DeviceType.SMOKE: FeedMapping("PM2.5", "ug/m3", "Fire Alarm", "smoke"),
    DeviceType.TEMPERATURE: FeedMapping("Temperature[C]", "celsius"),
    DeviceType.GAS: FeedMapping("TVOC[ppb]", "ppb"),
}


@dataclass(frozen=True, slots=True)
class FeedRow:
    """One usable row: its position in the file, its recorded time, its value and alarm state."""

    index: int
    recorded_s: float
    value: float
    alarm_on: bool


def _number(values: Mapping[str, str | None], column: str) -> float:
    text = (values.get(column) or "").strip()
    try:
        number = float(text)
    except ValueError:
        raise BadRow(f"{column} is {text!r}, not a number") from None
    if not math.isfinite(number):
        raise BadRow(f"{column} is {text!r}, not a finite number")
    return number


def replay_event_id(device_id: str, index: int, kind: str) -> uuid.UUID:
    """The event id of one kind of event from one row, the same on every replay.

    >>> str(replay_event_id("SMOKE-1", 0, "sensor_reading")) == str(replay_event_id("SMOKE-1", 0, "sensor_reading"))
    True
    """
    return uuid.uuid5(REPLAY_NAMESPACE, f"{device_id}\n{index}\n{kind}")


class FeedConverter:
    """Turn the rows of one recording into one device's events, remembering the alarm state between rows."""

    def __init__(self, device: Device) -> None:
        mapping = FEED_MAPPINGS.get(device.device_type)
        if mapping is None:
            kinds = ", ".join(sorted(t.value for t in FEED_MAPPINGS))
            raise UnsupportedDevice(f"a {device.device_type.value} device cannot replay a recording; use {kinds}")
        self.device = device
        self.mapping = mapping
        self._alarm_on = False
        self._first_s: float | None = None
        self._offset_s = 0.0

    def read(self, index: int, values: Mapping[str, str | None]) -> FeedRow:
        """Check one CSV row (a dict of column -> text); raise BadRow if it cannot be used."""
        m = self.mapping
        alarm_on = False
        if m.alarm_column:
            alarm_on = _number(values, m.alarm_column) != 0
        return FeedRow(index, _number(values, TIME_COLUMN), _number(values, m.column), alarm_on)

    def skip(self, row: FeedRow) -> None:
        """Pass over a row before the replayed ones: only its alarm state carries over."""
        self._alarm_on = row.alarm_on

    def offset_s(self, row: FeedRow, speed: float) -> float:
        """Seconds after the replay's start at which this row is due; never earlier than the row before.

        >>> c = FeedConverter(Device("S", DeviceType.SMOKE, 0, 0, "G"))
        >>> [c.offset_s(FeedRow(i, t, 0.0, False), 10.0) for i, t in enumerate([100, 101, 99, 130])]
        [0.0, 0.1, 0.1, 3.0]
        """
        if self._first_s is None:
            self._first_s = row.recorded_s
        if speed > 0:
            self._offset_s = max(self._offset_s, (row.recorded_s - self._first_s) / speed)
        return self._offset_s

    def events(self, row: FeedRow, ts: datetime) -> list[Event]:
        """The events of one row, stamped ts: its reading, then an alarm if the alarm just went on."""
        d, m = self.device, self.mapping
        out = [
            Event(
                event_id=replay_event_id(d.device_id, row.index, "sensor_reading"),
                device_id=d.device_id,
                device_type=d.device_type,
                ts=ts,
                lon=d.lon,
                lat=d.lat,
                payload=SensorReading(value=row.value, unit=m.unit),
            )
        ]
        if m.alarm and row.alarm_on and not self._alarm_on:
            out.append(
                Event(
                    event_id=replay_event_id(d.device_id, row.index, "alarm"),
                    device_id=d.device_id,
                    device_type=d.device_type,
                    ts=ts,
                    lon=d.lon,
                    lat=d.lat,
                    payload=Alarm(alarm=m.alarm),  # type: ignore[arg-type]  # one of the Literal values, by the table
                )
            )
        self._alarm_on = row.alarm_on
        return out
