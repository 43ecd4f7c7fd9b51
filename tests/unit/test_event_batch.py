"""The worker's batch validation must judge exactly as the models of domain.events do."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.event_batch import parse_events, to_event
from domain.events import InvalidEvent, parse_event

_PAYLOADS: list[dict[str, Any]] = [
    {"kind": "heartbeat", "battery": 50.0, "signal": -70.0},
    {"kind": "heartbeat"},
    {"kind": "gate_pass", "direction": "in", "person": "visitor", "health_code": "red", "visitor_registration": "V1"},
    {"kind": "gate_pass", "direction": "out", "person": "resident"},
    {"kind": "sensor_reading", "value": 3.5, "unit": "ppm"},
    {"kind": "alarm", "alarm": "smoke"},
    {"kind": "vehicle_pass", "direction": "in", "plate": "苏A12345", "watchlist_hit": True},
    {"kind": "face_capture", "watchlist_hit": False, "score": 0.2},
]
_ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.sampled_from(["in", "red", "smoke", "visitor", "2026-11-23T08:00:00", "2026-11-23T08:00:00+08:00", "gate"]),
    st.lists(st.integers(), max_size=2),
)


def _envelope(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "device_id": "D1",
        "device_type": "gate",
        "ts": datetime.now(UTC).isoformat(),
        "lon": 118.8,
        "lat": 32.0,
        "payload": dict(payload),
    }


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    event = _envelope(draw(st.sampled_from(_PAYLOADS)))
    for _ in range(draw(st.integers(0, 2))):
        inner = event.get("payload")
        target = inner if isinstance(inner, dict) and draw(st.booleans()) else event
        key = draw(st.sampled_from([*target, "extra"]))
        if draw(st.integers(0, 3)) == 0:
            target.pop(key, None)
        else:
            target[key] = draw(_ODD)
    return json.dumps(event).encode()


def _model_verdict(raw: bytes) -> object:
    try:
        return parse_event(raw).model_dump(mode="json")
    except InvalidEvent as exc:
        return exc.reason


@settings(max_examples=600, deadline=None)
@given(raws=st.lists(_mutated(), min_size=1, max_size=8))
def test_the_batch_twin_accepts_and_refuses_exactly_what_the_model_does(raws: list[bytes]) -> None:
    for raw, result in zip(raws, parse_events(raws), strict=True):
        mine = result.reason if isinstance(result, InvalidEvent) else to_event(result).model_dump(mode="json")
        assert mine == _model_verdict(raw), raw


def test_an_entry_holding_two_values_cannot_shift_the_others() -> None:
    a, b = (json.dumps(_envelope(_PAYLOADS[5])).encode() for _ in range(2))
    results = parse_events([a + b"," + b, a])
    assert isinstance(results[0], InvalidEvent) and not isinstance(results[1], InvalidEvent)


def test_one_bad_entry_leaves_the_rest_of_the_batch_valid() -> None:
    good = [json.dumps(_envelope(p)).encode() for p in _PAYLOADS]
    results = parse_events([*good[:3], b'{"event_id": 1}', b"{broken", *good[3:]])
    assert [isinstance(r, InvalidEvent) for r in results] == [False] * 3 + [True, True] + [False] * 5
