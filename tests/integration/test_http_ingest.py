"""`POST /api/v1/events`: a device signs its own batches; everything else is refused with a reason."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from app import Gridwatch, create_app
from domain.devices import Device, DeviceType
from geo.hierarchy import Hierarchy, Level
from geo.lookup import GridLocator
from runtime.bootstrap import ensure_demo_city, open_database
from security.device_signature import new_secret, sign
from storage.audit_repository import AuditQuery
from storage.device_repository import DeviceRepository
from streams.worker import IngestWorker
from tests.conftest import small_city_settings
from tests.integration.events import inside


@dataclass
class World:
    gw: Gridwatch
    city: Hierarchy
    secrets: dict[str, str]
    point: tuple[float, float]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[World]:
    app_settings = small_city_settings(
        tmp_path_factory.mktemp("ingest") / "var",
        redis_server.url,
        ingest_stream="gw:test-http:ingest",
        dead_letter_stream="gw:test-http:dead",
    )
    engine = open_database(app_settings)
    city = ensure_demo_city(engine, app_settings)
    grid = city.at_level(Level.GRID)[0]
    point = inside(grid)
    repo = DeviceRepository(engine)
    keys = {name: new_secret() for name in ("DEV-A", "DEV-B", "DEV-R")}
    repo.register_many([(Device(n, DeviceType.GATE, *point, grid.code), s) for n, s in keys.items()])
    repo.revoke("DEV-R")
    engine.dispose()
    gw = create_app(app_settings)
    try:
        yield World(gw, city, keys, point)
    finally:
        gw.close()


def event(world: World, device: str = "DEV-A", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "device_id": device,
        "device_type": "gate",
        "ts": datetime.now(UTC).isoformat(),
        "lon": world.point[0],
        "lat": world.point[1],
        "payload": {"kind": "gate_pass", "direction": "in", "person": "resident"},
    }
    body.update(changes)
    return body


def batch(events: list[Any]) -> bytes:
    return json.dumps({"events": events}).encode()


def post(
    world: World,
    body: bytes,
    device: str = "DEV-A",
    *,
    secret: str | None = None,
    ts: int | None = None,
    nonce: str | None = None,
    drop: str | None = None,
    client: FlaskClient | None = None,
) -> TestResponse:
    """Sign a body as a device does and POST it."""
    ts = int(time.time()) if ts is None else ts
    nonce = nonce or secrets.token_urlsafe(18)
    key = secret or world.secrets.get(device) or new_secret()
    headers = {
        "X-Device-Id": device,
        "X-Timestamp": str(ts),
        "X-Nonce": nonce,
        "X-Signature": sign(key, ts, nonce, body),
        "Content-Type": "application/json",
    }
    headers.pop(drop or "", None)
    return (client or world.gw.server.test_client()).post("/api/v1/events", data=body, headers=headers)


def refusals(world: World, since: int) -> list[str]:
    trail = world.gw.ctx.audit.search(AuditQuery(action="ingest.refused", limit=50))
    return [str(e.detail["reason"]) for e in reversed(trail) if e.seq > since]


def audit_head(world: World) -> int:
    entries = world.gw.ctx.audit.search(AuditQuery(limit=1))
    return entries[0].seq if entries else 0


# -- the happy path ------------------------------------------------------------------------------
def test_a_signed_batch_lands_in_the_stream_and_a_worker_counts_it(world: World) -> None:
    ctx = world.gw.ctx
    ctx.redis.delete(ctx.keys.ingest_stream)
    resp = post(world, batch([event(world) for _ in range(100)]))
    assert resp.status_code == 202, resp.get_data(as_text=True)
    results = resp.get_json()["results"]
    assert [r["status"] for r in results] == ["accepted"] * 100
    assert [r["index"] for r in results] == list(range(100))
    assert ctx.redis.xlen(ctx.keys.ingest_stream) == 100
    worker = IngestWorker(
        ctx.redis, GridLocator(world.city.at_level(Level.GRID)), ctx.keys, consumer="http-test", block_ms=50
    )
    worker.ensure_group()
    for _ in range(10):
        if worker.process_once().read == 0:
            break
    assert worker.totals.applied == 100 and worker.totals.dead == 0


def test_each_item_is_judged_on_its_own(world: World) -> None:
    items = [
        event(world),
        event(world, device="DEV-B"),  # another device's event, even a real one
        event(world, lon=float("nan")),
        event(world, payload={"kind": "gate_pass", "direction": "sideways", "person": "resident"}),
        "not an object",
        event(world, ts="2026-11-23T08:00:00"),  # no offset
        event(world, device_type="smoke"),  # not what DEV-A was registered as
        event(world, ts=(datetime.now(UTC) - timedelta(days=8)).isoformat()),
        event(world, ts=(datetime.now(UTC) + timedelta(minutes=10)).isoformat()),
        event(world, payload={"kind": "vehicle_pass", "direction": "in", "plate": "苏A12345"}),
    ]
    body = json.dumps({"events": items}).encode()  # NaN goes out as the bare token NaN
    results = post(world, body).get_json()["results"]
    assert [(r["status"], r["reason"]) for r in results] == [
        ("accepted", None),
        ("rejected", "wrong_device"),
        ("rejected", "schema"),
        ("rejected", "schema"),
        ("rejected", "schema"),
        ("rejected", "schema"),
        ("rejected", "wrong_device_type"),
        ("rejected", "too_old"),
        ("rejected", "in_future"),
        ("accepted", None),
    ]
    assert results[2]["detail"].startswith("lon")
    assert results[1]["event_id"] == items[1]["event_id"]


# -- refusals of the whole request ------------------------------------------------------------------
def _replayed(world: World) -> TestResponse:
    nonce = secrets.token_urlsafe(18)
    assert post(world, batch([event(world)]), nonce=nonce).status_code == 202
    return post(world, batch([event(world)]), nonce=nonce)


REFUSALS: dict[str, tuple[Callable[[World], TestResponse], int, str]] = {
    "bad signature": (lambda w: post(w, batch([event(w)]), secret=new_secret()), 401, "bad_signature"),
    "unknown device": (lambda w: post(w, batch([event(w, device="DEV-X")]), device="DEV-X"), 401, "unknown_device"),
    "revoked device": (lambda w: post(w, batch([event(w, device="DEV-R")]), device="DEV-R"), 401, "revoked_device"),
    "replayed nonce": (_replayed, 401, "replayed_nonce"),
    "stale timestamp": (
        lambda w: post(w, batch([event(w)]), ts=int(time.time()) - 301),
        401,
        "timestamp_out_of_window",
    ),
    "future timestamp": (
        lambda w: post(w, batch([event(w)]), ts=int(time.time()) + 301),
        401,
        "timestamp_out_of_window",
    ),
    "device without a secret": (
        lambda w: post(w, batch([]), device=f"D{w.city.at_level(Level.GRID)[0].code}01"),  # a demo device
        401,
        "no_credential",
    ),
    "no signature": (lambda w: post(w, batch([]), drop="X-Signature"), 401, "missing_credentials"),
    "short nonce": (lambda w: post(w, batch([]), nonce="abc"), 401, "malformed_credentials"),
    "oversize body": (lambda w: post(w, b" " * (1024 * 1024 + 1)), 413, "too_large"),
    "too many events": (lambda w: post(w, batch([{}] * 1001)), 413, "too_many_events"),
    "malformed JSON": (lambda w: post(w, b'{"events": [}'), 400, "not_json"),
    "deep JSON": (lambda w: post(w, b"[" * 100_000), 400, "not_json"),
    "not a batch": (lambda w: post(w, b'[{"events": []}]'), 400, "bad_body"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusals_name_their_reason_and_are_audited(world: World, case: str) -> None:
    send, status, reason = REFUSALS[case]
    stream = world.gw.ctx.keys.ingest_stream
    before, length = audit_head(world), world.gw.ctx.redis.xlen(stream)
    resp = send(world)
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.get_json()["error"] == reason
    assert refusals(world, before) == [reason]
    assert world.gw.ctx.redis.xlen(stream) == length + (1 if case == "replayed nonce" else 0)


# -- a device secret is not a login ------------------------------------------------------------------
def test_a_device_secret_cannot_log_in_or_read(world: World) -> None:
    c = world.gw.server.test_client()
    assert c.post("/login", data={"username": "DEV-A", "password": world.secrets["DEV-A"]}).status_code == 401
    ts, nonce = int(time.time()), secrets.token_urlsafe(18)
    headers = {
        "X-Device-Id": "DEV-A",
        "X-Timestamp": str(ts),
        "X-Nonce": nonce,
        "X-Signature": sign(world.secrets["DEV-A"], ts, nonce, b""),
    }
    assert c.get("/api/v1/map/snapshot", headers=headers).status_code == 401
    assert c.get("/api/v1/events", headers=headers).status_code == 405


# -- OpenAPI ---------------------------------------------------------------------------------------
def test_the_openapi_document_parses_and_describes_the_event(world: World) -> None:
    resp = world.gw.server.test_client().get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = json.loads(resp.get_data())
    assert doc["openapi"].startswith("3.1")
    op = doc["paths"]["/api/v1/events"]["post"]
    assert {p["name"] for p in op["parameters"]} == {"X-Device-Id", "X-Timestamp", "X-Nonce", "X-Signature"}
    assert set(op["responses"]) == {"202", "400", "401", "413"}
    schemas = doc["components"]["schemas"]

    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for v in node.values():
                yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)

    every = set(refs(doc))
    assert all(r.startswith("#/components/schemas/") and r.rsplit("/", 1)[1] in schemas for r in every), every
    batch_schema = schemas[op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert batch_schema["properties"]["events"]["items"] == {"$ref": "#/components/schemas/Event"}
    assert batch_schema["properties"]["events"]["maxItems"] == 1000
    assert {"event_id", "device_id", "ts", "lon", "lat", "payload"} <= set(schemas["Event"]["properties"])


# -- hostile items ---------------------------------------------------------------------------------
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_FIELDS = ["event_id", "device_id", "device_type", "ts", "lon", "lat", "payload", "extra"]


@st.composite
def hostile_item(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["field", "drop", "any"]))
    if kind == "any":
        return draw(_JSON)
    base = {
        "event_id": str(uuid.uuid4()),
        "device_id": "DEV-A",
        "device_type": "gate",
        "ts": datetime.now(UTC).isoformat(),
        "lon": 118.8,
        "lat": 32.0,
        "payload": {"kind": "heartbeat"},
    }
    name = draw(st.sampled_from(_FIELDS))
    if kind == "drop":
        base.pop(name, None)
    else:
        base[name] = draw(_JSON)
    return base


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(item=hostile_item())
def test_hostile_items_are_accepted_or_rejected_with_a_reason(world: World, item: Any) -> None:
    resp = post(world, json.dumps({"events": [item]}).encode())
    assert resp.status_code == 202, resp.get_data(as_text=True)[:300]
    [result] = resp.get_json()["results"]
    assert result["index"] == 0
    if result["status"] == "rejected":
        reasons = ("not_json", "schema", "wrong_device", "wrong_device_type", "too_old", "in_future")
        assert result["reason"] in reasons and result["detail"]
    else:
        assert result["status"] == "accepted" and result["reason"] is None


# -- hostile whole requests -------------------------------------------------------------------------
_PRINTABLE = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
_BAD_HEADER: dict[str, st.SearchStrategy[str]] = {
    "X-Device-Id": st.text(_PRINTABLE, min_size=65, max_size=80)
    | st.text(_PRINTABLE, max_size=10).map(lambda t: t + " x"),
    "X-Timestamp": st.text(st.characters(min_codepoint=0x30, max_codepoint=0x39), min_size=13, max_size=20)
    | st.text(_PRINTABLE, max_size=8).map(lambda t: t + "x"),
    "X-Nonce": st.text(st.sampled_from("abcXYZ019_-"), min_size=1, max_size=15)
    | st.text(st.sampled_from("abcXYZ019_-"), min_size=65, max_size=80)
    | st.text(st.sampled_from("abc019"), min_size=16, max_size=20).map(lambda t: t + "!"),
    "X-Signature": st.text(st.sampled_from("0123456789abcdef"), min_size=1, max_size=63)
    | st.text(st.sampled_from("0123456789abcdef"), min_size=63, max_size=63).map(lambda t: t + "g"),
}


@dataclass
class Request:
    body: bytes
    headers: dict[str, str]
    expected: frozenset[str]  # acceptable `error` values
    status: int
    replay_first: bool = False


def signed(world: World, body: bytes, device: str = "DEV-A", **over: Any) -> dict[str, str]:
    ts, nonce = int(over.pop("ts", time.time())), over.pop("nonce", secrets.token_urlsafe(18))
    key = over.pop("secret", world.secrets.get(device) or new_secret())
    signed_body = over.pop("signed_body", body)
    return {
        "X-Device-Id": device,
        "X-Timestamp": str(ts),
        "X-Nonce": nonce,
        "X-Signature": sign(key, ts, nonce, signed_body),
        "Content-Type": over.pop("content_type", "application/json"),
    }


@st.composite
def hostile_request(draw: st.DrawFn, world: World) -> Request:
    """A whole request the endpoint must refuse, and the refusal it must give."""
    good = batch([event(world)])
    kind = draw(
        st.sampled_from(
            [
                "missing",
                "malformed",
                "skew",
                "signature",
                "unknown",
                "revoked",
                "replayed",
                "oversize",
                "too_many",
                "not_json",
                "not_a_batch",
                "form",
            ]
        )
    )
    if kind == "missing":
        headers = signed(world, good)
        del headers[draw(st.sampled_from(["X-Device-Id", "X-Timestamp", "X-Nonce", "X-Signature"]))]
        return Request(good, headers, frozenset({"missing_credentials"}), 401)
    if kind == "malformed":
        headers = signed(world, good)
        name = draw(st.sampled_from(sorted(_BAD_HEADER)))
        headers[name] = draw(_BAD_HEADER[name])
        return Request(good, headers, frozenset({"malformed_credentials"}), 401)
    if kind == "skew":
        off = draw(st.integers(min_value=301, max_value=10**9))
        ts = max(0, int(time.time()) + (off if draw(st.booleans()) else -off))
        return Request(good, signed(world, good, ts=ts), frozenset({"timestamp_out_of_window"}), 401)
    if kind == "signature":
        how = draw(st.sampled_from(["secret", "body", "other_device"]))
        if how == "secret":
            headers = signed(world, good, secret=new_secret())
        elif how == "body":
            headers = signed(world, good, signed_body=good + b" ")
        else:
            headers = signed(world, good, secret=world.secrets["DEV-B"])
        return Request(good, headers, frozenset({"bad_signature"}), 401)
    if kind == "unknown":
        device = "NOPE-" + draw(st.text(st.sampled_from("ABC123_.:-"), min_size=1, max_size=20))
        return Request(good, signed(world, good, device=device), frozenset({"unknown_device"}), 401)
    if kind == "revoked":
        return Request(good, signed(world, good, device="DEV-R"), frozenset({"revoked_device"}), 401)
    if kind == "replayed":
        return Request(good, signed(world, good), frozenset({"replayed_nonce"}), 401, replay_first=True)
    if kind == "oversize":
        body = b" " * draw(st.integers(min_value=MAX_BODY + 1, max_value=2 * MAX_BODY))
        return Request(body, signed(world, body), frozenset({"too_large"}), 413)
    if kind == "too_many":
        body = batch([{}] * draw(st.integers(min_value=1001, max_value=3000)))
        return Request(body, signed(world, body), frozenset({"too_many_events"}), 413)
    if kind == "not_json":
        body = draw(st.binary(min_size=1, max_size=200).filter(_not_json))
        return Request(body, signed(world, body), frozenset({"not_json"}), 400)
    if kind == "not_a_batch":
        doc = draw(_JSON.filter(lambda d: not (isinstance(d, dict) and set(d) == {"events"})))
        body = json.dumps(doc).encode()
        return Request(body, signed(world, body), frozenset({"bad_body"}), 400)
    body = draw(st.sampled_from([b"events=1&x=2", b"--b\r\nContent-Disposition: form-data\r\n\r\n1\r\n--b--", b"<e/>"]))
    content_type = draw(st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data; boundary=b"]))
    return Request(body, signed(world, body, content_type=content_type), frozenset({"not_json"}), 400)


MAX_BODY = 1024 * 1024


def _not_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        return True
    return False


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_requests_are_refused_whole_audited_and_leave_the_stream_alone(world: World, data: Any) -> None:
    req = data.draw(hostile_request(world))
    client = world.gw.server.test_client()
    stream = world.gw.ctx.keys.ingest_stream
    if req.replay_first:
        assert client.post("/api/v1/events", data=req.body, headers=req.headers).status_code == 202
    before, length = audit_head(world), world.gw.ctx.redis.xlen(stream)
    resp = client.post("/api/v1/events", data=req.body, headers=req.headers)
    assert resp.status_code == req.status, (resp.status_code, resp.get_data(as_text=True)[:300])
    answer = resp.get_json()
    assert answer["error"] in req.expected and answer["detail"]
    assert refusals(world, before) == [answer["error"]]
    assert world.gw.ctx.redis.xlen(stream) == length
    # The endpoint still serves its device right after.
    assert post(world, batch([event(world)]), client=client).status_code == 202
