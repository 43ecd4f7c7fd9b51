from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from domain.events import EventType, InvalidEvent, RejectReason, check_time, parse_event


def envelope(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "event_id": str(uuid.uuid4()),
        "device_id": "D990101001001001-01",
        "device_type": "gate",
        "ts": "2026-11-23T08:00:00+08:00",
        "lon": 118.8,
        "lat": 32.05,
        "payload": {"kind": "gate_pass", "direction": "in", "person": "visitor", "health_code": "red"},
    }
    base.update(over)
    return base


def test_valid_gate_pass_parses_and_normalises_time_to_utc() -> None:
    event = parse_event(json.dumps(envelope()))
    assert event.type is EventType.GATE_PASS
    assert event.ts.utcoffset() is not None and event.ts.hour == 0


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", RejectReason.NOT_JSON),
        (b"\xff\xfe", RejectReason.NOT_JSON),
        (b"[1, 2]", RejectReason.SCHEMA),
        (json.dumps(envelope(event_id="nope")), RejectReason.SCHEMA),
        (json.dumps(envelope(lon=200)), RejectReason.SCHEMA),
        (json.dumps(envelope(ts="2026-11-23T08:00:00")), RejectReason.SCHEMA),
        (
            json.dumps(envelope(payload={"kind": "gate_pass", "direction": "up", "person": "resident"})),
            RejectReason.SCHEMA,
        ),
        (json.dumps(envelope(payload={"kind": "teleport"})), RejectReason.SCHEMA),
        (json.dumps(envelope(extra="field")), RejectReason.SCHEMA),
        (json.dumps(envelope(device_id="<script>")), RejectReason.SCHEMA),
        ('{"event_id": "' + str(uuid.uuid4()) + '", "lon": NaN}', RejectReason.SCHEMA),
        # Wrong types are refused, not coerced: a number is a JSON number, ts an ISO 8601 string.
        (json.dumps(envelope(lon="118.8")), RejectReason.SCHEMA),
        (json.dumps(envelope(lat=True)), RejectReason.SCHEMA),
        (json.dumps(envelope(ts=1795430000)), RejectReason.SCHEMA),
        (
            json.dumps(
                envelope(device_type="face_camera", payload={"kind": "face_capture", "watchlist_hit": 1, "score": 0.5})
            ),
            RejectReason.SCHEMA,
        ),
    ],
)
def test_defects_are_refused_with_a_reason(raw: str | bytes, reason: RejectReason) -> None:
    with pytest.raises(InvalidEvent) as info:
        parse_event(raw)
    assert info.value.reason is reason
    assert info.value.detail


def test_sensor_value_must_be_finite() -> None:
    bad = envelope(device_type="smoke", payload={"kind": "sensor_reading", "value": float("inf"), "unit": "x"})
    with pytest.raises(InvalidEvent, match="schema"):
        parse_event(json.dumps(bad))


def test_round_trip_through_the_wire_format() -> None:
    event = parse_event(json.dumps(envelope()))
    assert parse_event(event.to_json()) == event


@pytest.mark.parametrize(
    ("payload", "ok"),
    [
        ({"kind": "vehicle_pass", "direction": "in", "plate": "苏A12345"}, True),
        ({"kind": "vehicle_pass", "direction": "out", "plate": "苏A12345", "watchlist_hit": True}, True),
        ({"kind": "vehicle_pass", "direction": "in", "plate": "A"}, False),
        ({"kind": "vehicle_pass", "direction": "in"}, False),
        ({"kind": "face_capture", "watchlist_hit": True, "score": 0.93, "watchlist_id": "W1"}, True),
        ({"kind": "face_capture", "watchlist_hit": False, "score": 1.5}, False),
        ({"kind": "face_capture", "score": 0.5}, False),
    ],
)
def test_camera_payloads(payload: dict[str, object], ok: bool) -> None:
    raw = json.dumps(envelope(device_type="vehicle_camera", payload=payload))
    if ok:
        assert parse_event(raw).type.value == payload["kind"]
    else:
        with pytest.raises(InvalidEvent, match="schema"):
            parse_event(raw)


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        (timedelta(days=-8), RejectReason.TOO_OLD),
        (timedelta(minutes=6), RejectReason.IN_FUTURE),
        (timedelta(days=-6), None),
        (timedelta(minutes=4), None),
    ],
)
def test_time_window(offset: timedelta, reason: RejectReason | None) -> None:
    event = parse_event(json.dumps(envelope()))
    now = event.ts - offset
    if reason is None:
        check_time(event.ts, now, max_age_s=7 * 86_400, max_ahead_s=300)
    else:
        with pytest.raises(InvalidEvent) as info:
            check_time(event.ts, now, max_age_s=7 * 86_400, max_ahead_s=300)
        assert info.value.reason is reason
