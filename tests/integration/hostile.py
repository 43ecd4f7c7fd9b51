"""Hypothesis strategies for hostile input: every one is built to be refused, none by luck.

Each strategy starts from a valid event and breaks exactly one thing, or sends something that
was never an event. "Outside the city" is the one defect only the worker can see (it needs the
grid map), so the HTTP path accepts it and the worker dead-letters it as ``unplaceable``.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from domain.events import RejectReason

REASONS = frozenset(r.value for r in RejectReason)
ITEM_REASONS = frozenset({"not_json", "schema", "wrong_device", "wrong_device_type", "too_old", "in_future"})
FIELDS = ("event_id", "device_id", "device_type", "ts", "lon", "lat", "payload")
CITY_WEST = 118.0  # the small test city lies east of this meridian and north of CITY_SOUTH
CITY_SOUTH = 31.0


def event(device: str, device_type: str, lon: float, lat: float, **changes: Any) -> dict[str, Any]:
    """A valid event (placed wherever lon, lat fall), with some fields replaced."""
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "device_id": device,
        "device_type": device_type,
        "ts": datetime.now(UTC).isoformat(),
        "lon": lon,
        "lat": lat,
        "payload": {"kind": "gate_pass", "direction": "in", "person": "resident"},
    }
    body.update(changes)
    return body


_WRONG: dict[str, list[Any]] = {
    "event_id": [123, [], {}, None, True, "not-a-uuid", ""],
    "device_id": [5, [], None, "", "has space", "x" * 65, "<script>"],
    "device_type": ["toaster", 1, None, [], "GATE"],
    "ts": [
        None,
        [],
        True,
        1_795_430_000,
        "yesterday",
        "",
        "2026-11-23T08:00:00",
        "2026-02-30T00:00:00Z",
        "10000-01-01T00:00:00Z",
    ],
    "lon": ["118.8", True, None, [], {}],
    "lat": ["32.0", False, None, [], {}],
    "payload": ["x", [], None, 1, {}, {"kind": "teleport"}, {"kind": "gate_pass"}, {"kind": "alarm", "alarm": "fire"}],
}
_BAD_BYTES = [b"\xff", b"\x80", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xc0\xaf"]


@st.composite
def broken_event(draw: st.DrawFn, base: dict[str, Any], *, huge: int = 300_000, deep: int = 20_000) -> bytes:
    """A valid event with one defect the envelope rules refuse, as wire bytes."""
    doc = json.loads(json.dumps(base))
    kind = draw(
        st.sampled_from(["missing", "extra", "wrong_type", "nan", "range", "huge", "deep", "time", "payload_extra"])
    )
    token = None
    if kind == "missing":
        del doc[draw(st.sampled_from(FIELDS))]
    elif kind == "extra":
        doc[draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in FIELDS))] = draw(
            st.none() | st.integers() | st.text(max_size=8)
        )
    elif kind == "payload_extra":
        doc["payload"][draw(st.sampled_from(["extra", "value", "battery", "kind2"]))] = 1  # not gate_pass fields
    elif kind == "wrong_type":
        name = draw(st.sampled_from(FIELDS))
        doc[name] = draw(st.sampled_from(_WRONG[name]))
    elif kind == "nan":
        token = draw(st.sampled_from(["NaN", "Infinity", "-Infinity"]))
        where = draw(st.sampled_from(["lon", "lat", "value", "battery"]))
        if where in ("lon", "lat"):
            doc[where] = "__TOKEN__"
        elif where == "value":
            doc["payload"] = {"kind": "sensor_reading", "value": "__TOKEN__", "unit": "x"}
        else:
            doc["payload"] = {"kind": "heartbeat", "battery": "__TOKEN__"}
    elif kind == "range":
        lon_or_lat = draw(st.sampled_from(["lon", "lat"]))
        limit = 180.0 if lon_or_lat == "lon" else 90.0
        size = draw(st.floats(min_value=limit, max_value=1e300, exclude_min=True, allow_nan=False))
        doc[lon_or_lat] = size if draw(st.booleans()) else -size
    elif kind == "huge":
        n = draw(st.integers(min_value=65, max_value=huge))
        where = draw(st.sampled_from(["device_id", "visitor_registration", "unit"]))
        if where == "device_id":
            doc["device_id"] = "D" * n
        elif where == "unit":
            doc["payload"] = {"kind": "sensor_reading", "value": 1.0, "unit": "u" * n}
        else:
            doc["payload"]["visitor_registration"] = "V" * n
    elif kind == "deep":
        depth = draw(st.integers(min_value=250, max_value=deep))
        doc["payload"] = "__DEEP__"
        token = "[" * depth + "]" * depth
    else:
        shift = draw(
            st.sampled_from([timedelta(days=8), timedelta(days=3650), -timedelta(minutes=6), -timedelta(days=400)])
        )
        doc["ts"] = (datetime.now(UTC) - shift).isoformat()
    raw = json.dumps(doc)
    if token is not None:
        raw = raw.replace('"__TOKEN__"', token).replace('"__DEEP__"', token)
    return raw.encode("utf-8")


@st.composite
def hostile_bytes(draw: st.DrawFn, base: dict[str, Any], outside: dict[str, Any]) -> bytes | None:
    """One hostile stream entry's data field (None: an entry without a data field)."""
    kind = draw(st.sampled_from(["random", "utf8", "broken", "broken", "broken", "outside", "not_object", "no_data"]))
    if kind == "random":
        return draw(st.binary(max_size=300))
    if kind == "utf8":
        raw = json.dumps(base).encode()
        at = draw(st.integers(min_value=0, max_value=len(raw)))
        return raw[:at] + draw(st.sampled_from(_BAD_BYTES)) + raw[at:]
    if kind == "outside":
        return json.dumps(outside).encode()
    if kind == "not_object":
        return json.dumps(draw(st.sampled_from([[base], 1, "event", None, True, []]))).encode()
    if kind == "no_data":
        return None
    return draw(broken_event(base))


def outside_point() -> st.SearchStrategy[tuple[float, float]]:
    """A valid WGS84 point that lies in no grid of the small city."""
    west = st.tuples(st.floats(-180, CITY_WEST), st.floats(-90, 90))
    south = st.tuples(st.floats(-180, 180), st.floats(-90, CITY_SOUTH))
    return west | south
