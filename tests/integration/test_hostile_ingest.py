"""Hostile input on both paths at once, with good events between: a running worker refuses every bad
entry with a documented reason and its bytes, counts every good event once, and never stops."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import Gridwatch, create_app
from domain.devices import Device, DeviceType
from geo.hierarchy import Level
from geo.lookup import GridLocator
from runtime.bootstrap import ensure_demo_city, open_database
from runtime.embedded_redis import EmbeddedRedis
from security.device_signature import new_secret, sign
from storage.device_repository import DeviceRepository
from streams.connection import connect
from streams.keys import RedisKeys
from streams.worker import IngestWorker
from tests.conftest import small_city_settings
from tests.integration.events import inside
from tests.integration.hostile import ITEM_REASONS, REASONS, broken_event, event, hostile_bytes, outside_point
from tests.integration.stream_state import applied, caught_up, grid_counts, minute_now, wait_until

EXAMPLES = 500


@dataclass
class Arena:
    gw: Gridwatch
    client: redis.Redis
    keys: RedisKeys
    worker: IngestWorker
    thread: threading.Thread
    points: list[tuple[str, float, float]]  # grid code, a point inside it
    secret: str
    since: int
    cursor: str = "0-0"  # the last dead letter already looked at
    totals: Counter[str] = field(default_factory=Counter)


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory, redis_server: EmbeddedRedis) -> Iterator[Arena]:
    client = connect(redis_server.url)
    client.flushall()
    app_settings = small_city_settings(tmp_path_factory.mktemp("hostile") / "var", redis_server.url)
    engine = open_database(app_settings)
    city = ensure_demo_city(engine, app_settings)
    grids = city.at_level(Level.GRID)[:40]
    points = [(g.code, *inside(g)) for g in grids]
    secret = new_secret()
    DeviceRepository(engine).register(
        Device("HOST-A", DeviceType.GATE, points[0][1], points[0][2], grids[0].code), secret
    )
    engine.dispose()
    gw = create_app(app_settings)
    keys = gw.ctx.keys
    worker = IngestWorker(
        client, GridLocator(city.at_level(Level.GRID)), keys, consumer="hostile", block_ms=20, claim_idle_ms=600_000
    )
    worker.ensure_group()
    thread = threading.Thread(target=worker.run, name="hostile-worker", daemon=True)
    thread.start()
    try:
        yield Arena(gw, client, keys, worker, thread, points, secret, minute_now())
    finally:
        worker.stop()
        thread.join(timeout=10)
        gw.close()
        client.close()


def post(arena: Arena, body: bytes) -> Any:
    ts, nonce = int(time.time()), secrets.token_urlsafe(18)
    headers = {
        "X-Device-Id": "HOST-A",
        "X-Timestamp": str(ts),
        "X-Nonce": nonce,
        "X-Signature": sign(arena.secret, ts, nonce, body),
        "Content-Type": "application/json",
    }
    return arena.gw.server.test_client().post("/api/v1/events", data=body, headers=headers)


def new_dead_letters(arena: Arena) -> list[dict[str, bytes]]:
    rows: Any = arena.client.xrange(arena.keys.dead_letter_stream, min=f"({arena.cursor}", max="+")
    if rows:
        arena.cursor = rows[-1][0].decode()
    return [{k.decode(): v for k, v in fields.items()} for _, fields in rows]


@st.composite
def round_of_traffic(draw: st.DrawFn, arena: Arena) -> dict[str, Any]:
    """Stream entries and one signed HTTP batch, hostile and good mixed in a drawn order."""
    _, lon, lat = draw(st.sampled_from(arena.points))
    base = event("GW-1", "gate", lon, lat)
    outside = event("GW-1", "gate", *draw(outside_point()))
    stream = draw(
        st.lists(
            st.one_of(
                hostile_bytes(base, outside).map(lambda raw: ("hostile", raw)),
                st.sampled_from(arena.points).map(lambda p: ("good", p)),
            ),
            min_size=1,
            max_size=30,
        )
    )
    own = event("HOST-A", "gate", lon, lat)
    item = st.one_of(
        broken_event(own, huge=2_000, deep=800).map(lambda raw: ("hostile", raw)),
        outside_point().map(lambda p: ("outside", json.dumps(event("HOST-A", "gate", *p)).encode())),
        st.sampled_from([{"device_id": "HOST-B"}, {"device_type": "smoke"}, {"device_id": "GW-1"}]).map(
            lambda change: ("hostile", json.dumps({**event("HOST-A", "gate", lon, lat), **change}).encode())
        ),
        st.sampled_from(arena.points).map(lambda p: ("good", p)),
    )
    return {"stream": stream, "items": draw(st.lists(item, max_size=12))}


def test_hostile_entries_on_both_paths_are_refused_with_a_reason_while_good_ones_count_once(arena: Arena) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,  # the same draws every run: the coverage of every reason below must not be luck
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(traffic=st.data())
    def one_round(traffic: st.DataObject) -> None:
        plan = traffic.draw(round_of_traffic(arena))
        before_grids, before_applied = (
            grid_counts(arena.client, arena.keys, arena.since),
            applied(arena.client, arena.keys),
        )
        expected = Counter[str]()
        hostile_entries: dict[str, bytes] = {}  # stream entry id -> the bytes sent
        pipe = arena.client.pipeline(transaction=False)
        sent: list[tuple[str, bytes]] = []
        for kind, what in plan["stream"]:
            if kind == "good":
                code, lon, lat = what
                raw = json.dumps(event("GW-1", "gate", lon, lat)).encode()
                expected[code] += 1
            else:
                raw = what
            pipe.xadd(arena.keys.ingest_stream, {"data": raw} if raw is not None else {"other": b"x"})
            sent.append((kind, raw if raw is not None else b""))
        for (kind, raw), entry_id in zip(sent, pipe.execute(), strict=True):
            if kind == "hostile":
                hostile_entries[entry_id.decode()] = raw

        items: list[bytes] = []
        awaited: dict[str, str] = {}  # event_id of an item the HTTP path accepts but the worker must refuse
        for kind, what in plan["items"]:
            if kind == "good":
                code, lon, lat = what
                doc = event("HOST-A", "gate", lon, lat)
                items.append(json.dumps(doc).encode())
            else:
                items.append(what)
        resp = post(arena, b'{"events": [' + b", ".join(items) + b"]}")
        assert resp.status_code == 202, resp.get_data(as_text=True)[:300]
        results = resp.get_json()["results"]
        assert [r["index"] for r in results] == list(range(len(items)))
        for (kind, what), result in zip(plan["items"], results, strict=True):
            if kind == "good":
                assert result["status"] == "accepted", result
                expected[what[0]] += 1
            elif result["status"] == "rejected":
                assert result["reason"] in ITEM_REASONS and result["detail"], result
            else:
                assert kind == "outside", (what[:200], result)  # only the worker can tell: it knows the grids
                awaited[result["event_id"]] = kind

        wait_until(lambda: caught_up(arena.client, arena.keys), 30, "the worker to take every entry")
        letters = new_dead_letters(arena)
        by_entry = {f["entry_id"].decode(): f for f in letters}
        for entry_id, raw in hostile_entries.items():
            letter = by_entry.get(entry_id)
            assert letter is not None, f"hostile entry {entry_id} was not dead-lettered: {raw[:200]!r}"
            assert letter["reason"].decode() in REASONS and letter["detail"]
            assert letter["raw"] == raw  # the bytes exactly as they came
        others = [f for f in letters if f["entry_id"].decode() not in hostile_entries]
        assert {json.loads(f["raw"])["event_id"] for f in others} == set(awaited)
        assert {f["reason"] for f in others} <= {b"unplaceable"}
        assert len(letters) == len(hostile_entries) + len(awaited)
        after = grid_counts(arena.client, arena.keys, arena.since)
        assert after - before_grids == expected and applied(arena.client, arena.keys) - before_applied == sum(
            expected.values()
        )
        assert arena.thread.is_alive() and not arena.worker.stopped
        arena.totals["hostile"] += len(hostile_entries) + len(items) - sum(1 for k, _ in plan["items"] if k == "good")
        arena.totals["good"] += sum(expected.values())
        arena.totals.update(f"reason {f['reason'].decode()}" for f in letters)

    one_round()
    print(f"hostile entries and items, good events counted once, dead letters by reason: {dict(arena.totals)}")
    assert arena.totals["hostile"] >= 1_000
    assert {r for r in REASONS if arena.totals[f"reason {r}"]} >= REASONS - {"processing_error"}
