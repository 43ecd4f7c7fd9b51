"""Kinds of device that report into Gridwatch."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Device", "DeviceType"]


class DeviceType(enum.StrEnum):
    """Every device kind the city connects; the value is the wire name."""

    GATE = "gate"
    FACE_CAMERA = "face_camera"
    VEHICLE_CAMERA = "vehicle_camera"
    SMOKE = "smoke"
    TEMPERATURE = "temperature"
    GAS = "gas"
    WATER_METER = "water_meter"
    POWER_METER = "power_meter"
    INFRARED = "infrared"
    ALARM_BUTTON = "alarm_button"


@dataclass(frozen=True, slots=True)
class Device:
    """A registered device, placed on its grid at registration."""

    device_id: str
    device_type: DeviceType
    lon: float
    lat: float
    grid_code: str
