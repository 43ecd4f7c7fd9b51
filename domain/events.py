"""The event envelope devices send, and its validation.

Validation is strict and positive: anything not described here is refused with a
machine-readable reason, so the worker can dead-letter it instead of guessing.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from domain.devices import DeviceType

__all__ = [
    "Alarm",
    "Event",
    "EventType",
    "FaceCapture",
    "GatePass",
    "Heartbeat",
    "InvalidEvent",
    "RejectReason",
    "SensorReading",
    "VehiclePass",
    "check_time",
    "invalid_from",
    "parse_event",
]


class EventType(enum.StrEnum):
    """What an event reports; selects the payload schema."""

    HEARTBEAT = "heartbeat"
    GATE_PASS = "gate_pass"  # noqa: S105 - an event type, not a password
    SENSOR_READING = "sensor_reading"
    ALARM = "alarm"
    VEHICLE_PASS = "vehicle_pass"  # noqa: S105 - an event type, not a password
    FACE_CAPTURE = "face_capture"


class RejectReason(enum.StrEnum):
    """Closed set of reasons an event is dead-lettered."""

    NOT_JSON = "not_json"
    SCHEMA = "schema"
    UNPLACEABLE = "unplaceable"
    TOO_OLD = "too_old"
    IN_FUTURE = "in_future"
    PROCESSING_ERROR = "processing_error"


class InvalidEvent(ValueError):
    """An event was refused; carries the reason code and a human-readable detail."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


_STRICT = ConfigDict(extra="forbid", frozen=True, str_max_length=256)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Field types, shared by the models below and by their twins in domain.event_batch.
Battery = Annotated[float, Field(ge=0, le=100)]
Signal = Annotated[float, Field(ge=-150, le=0)]
Direction = Literal["in", "out"]
Person = Literal["resident", "visitor", "unknown"]
HealthCode = Literal["green", "yellow", "red", "none"]
Registration = Annotated[str, Field(max_length=64)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
MeasureUnit = Annotated[str, Field(max_length=16)]
AlarmKind = Literal["smoke", "gas", "button", "intrusion", "temperature"]
Plate = Annotated[str, Field(min_length=2, max_length=16)]
Score = Annotated[float, Field(ge=0, le=1)]
WatchlistId = Annotated[str, Field(max_length=64)]
DeviceId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
# ISO 8601 with an offset (a time without one is refused), stored as UTC.
Timestamp = Annotated[AwareDatetime, AfterValidator(_utc)]


class Heartbeat(BaseModel):
    """A device says it is alive."""

    model_config = _STRICT
    kind: Literal["heartbeat"] = "heartbeat"
    battery: Battery | None = None
    signal: Signal | None = None


class GatePass(BaseModel):
    """A person passed an access-control gate."""

    model_config = _STRICT
    kind: Literal["gate_pass"] = "gate_pass"
    direction: Direction
    person: Person
    health_code: HealthCode = "none"
    visitor_registration: Registration | None = None


class SensorReading(BaseModel):
    """A measured value (smoke density, temperature, gas, meters)."""

    model_config = _STRICT
    kind: Literal["sensor_reading"] = "sensor_reading"
    value: Finite
    unit: MeasureUnit


class Alarm(BaseModel):
    """An alarm raised by a device (smoke, gas, one-button)."""

    model_config = _STRICT
    kind: Literal["alarm"] = "alarm"
    alarm: AlarmKind


class VehiclePass(BaseModel):
    """A vehicle passed a camera-watched gate or road; the plate as the camera read it."""

    model_config = _STRICT
    kind: Literal["vehicle_pass"] = "vehicle_pass"
    direction: Direction
    plate: Plate
    watchlist_hit: bool = False


class FaceCapture(BaseModel):
    """A face camera captured someone; a watch-list hit carries its match score."""

    model_config = _STRICT
    kind: Literal["face_capture"] = "face_capture"
    watchlist_hit: bool
    score: Score
    watchlist_id: WatchlistId | None = None


Payload = Annotated[
    Heartbeat | GatePass | SensorReading | Alarm | VehiclePass | FaceCapture, Field(discriminator="kind")
]
PAYLOADS: dict[str, type[BaseModel]] = {
    m.model_fields["kind"].default: m for m in (Heartbeat, GatePass, SensorReading, Alarm, VehiclePass, FaceCapture)
}


class Event(BaseModel):
    """The envelope: who reported what, when and where; event_id is the idempotency key."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    event_id: uuid.UUID
    device_id: DeviceId
    device_type: DeviceType
    ts: Timestamp
    lon: Longitude
    lat: Latitude
    payload: Payload

    @property
    def type(self) -> EventType:
        """The event type, taken from the payload's discriminator."""
        return EventType(self.payload.kind)

    def to_json(self) -> str:
        """Serialise to the wire format."""
        return self.model_dump_json()


def parse_event(raw: str | bytes) -> Event:
    """Validate one wire event; raise InvalidEvent with a reason code on any defect."""
    try:
        # One pass in pydantic-core (JSON parsing and validation together): about twice as fast
        # as json.loads followed by model_validate, and the parse error types tell the reasons apart.
        # Strict, as documented: a number is a JSON number and ts an ISO 8601 string; lax mode would
        # take "118.8", true or a bare unix time and make of them something the device never meant.
        return Event.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise invalid_from(exc) from exc


def invalid_from(exc: ValidationError) -> InvalidEvent:
    """Turn pydantic's first error into our reason code and a short detail."""
    first = exc.errors()[0]
    if first.get("type") == "json_invalid":
        return InvalidEvent(RejectReason.NOT_JSON, str(first.get("msg", "invalid JSON"))[:200])
    if first.get("type") == "model_type":
        return InvalidEvent(RejectReason.SCHEMA, "event must be a JSON object")
    where = ".".join(str(p) for p in first.get("loc", ()))
    return InvalidEvent(RejectReason.SCHEMA, f"{where}: {first.get('msg', 'invalid')}")


def check_time(ts: datetime, now: datetime, max_age_s: float, max_ahead_s: float) -> None:
    """Refuse an event stamped too long ago or in the future (a broken clock, a replayed capture).

    >>> from datetime import timedelta
    >>> e = Event.model_validate_json(
    ...     '{"event_id":"0b7c2a5e-0000-4000-8000-000000000001","device_id":"D1","device_type":"smoke",'
    ...     '"ts":"2026-11-23T08:00:00Z","lon":118.8,"lat":32.0,"payload":{"kind":"heartbeat"}}')
    >>> check_time(e.ts, e.ts + timedelta(seconds=10), 3600, 300) is None
    True
    """
    age = (now - ts).total_seconds()
    if age > max_age_s:
        raise InvalidEvent(RejectReason.TOO_OLD, f"ts {ts.isoformat()} is older than {max_age_s:.0f} s")
    if -age > max_ahead_s:
        raise InvalidEvent(RejectReason.IN_FUTURE, f"ts {ts.isoformat()} is more than {max_ahead_s:.0f} s ahead")
