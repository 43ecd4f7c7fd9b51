"""Ingest beyond one worker: two workers against one, and latency from XADD to effect and to screen delta.

1. **Scaling**: the same pre-filled stream drained by one, then two worker *processes* (one consumer
   group, the production ``IngestWorker.run`` loop); events/s of each and the ratio. Two workers and
   Redis are three busy processes: on a two-core machine the ratio is capped well below 2.
2. **Latency** at a steady background load (``--rates``, events/s, paced in 10 ms slices) with one
   worker process running the worker and the map aggregator as ``app.py worker`` does. Every 20 ms a
   probe event goes to a grid no other event touches, and two clocks run from its XADD: until its
   effect is stored (its id in the dedup hash, polled every millisecond) and until the map delta that
   colours its grid is published (a subscriber on the push channel). The second includes the
   aggregator's tick (``--delta-interval``), by design: screens get at most one delta per tick.

Run: ``python -m benchmarks.ingest_scaling [--events N] [--rates 5000,20000] [--seconds S]``.
The last line is machine-readable: ``ingest_scaling: ...``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from domain.simulation import EventFactory
from geo.demo_city import DemoCitySpec, generate_demo_city
from geo.hierarchy import Hierarchy, Level
from geo.lookup import GridLocator
from runtime.bootstrap import demo_devices
from runtime.embedded_redis import EmbeddedRedis
from streams.aggregates import MapAggregator, decode_push
from streams.ingest import append_events
from streams.keys import RedisKeys
from streams.worker import IngestWorker

__all__ = ["main"]

FULL_CITY = DemoCitySpec(seed=1, districts=11, streets=100, communities=1000, grids=12410)
PROBE_EVERY_S = 0.02
SLICE_S = 0.01


def _serve(url: str, city: Hierarchy, name: str, delta_interval: float, stop: object) -> None:
    """One worker process: the ingest loop and (if it holds the lease) the map aggregator."""
    client = redis.Redis.from_url(url)
    keys = RedisKeys()
    worker = IngestWorker(client, GridLocator(city.at_level(Level.GRID)), keys, consumer=name, block_ms=5)
    aggregator = MapAggregator(client, city, keys, owner=name, interval_s=delta_interval)
    threading.Thread(target=aggregator.run, daemon=True).start()
    threading.Thread(target=worker.run, daemon=True).start()
    stop.wait()  # type: ignore[attr-defined]
    worker.stop()
    aggregator.stop()


def _start(url: str, city: Hierarchy, n: int, delta_interval: float) -> tuple[list[Any], Any]:
    ctx = mp.get_context("fork")  # the city and its spatial index are shared, not rebuilt
    stop = ctx.Event()
    procs = [ctx.Process(target=_serve, args=(url, city, f"w{i}", delta_interval, stop)) for i in range(n)]
    for p in procs:
        p.start()
    return procs, stop


def _stop(procs: list[Any], stop: Any) -> None:
    stop.set()
    for p in procs:
        p.join(10)
        if p.is_alive():
            p.kill()


def scaling(url: str, city: Hierarchy, payloads: Sequence[bytes], workers: int) -> float:
    """Return events/s for ``workers`` processes draining the pre-filled stream."""
    client = redis.Redis.from_url(url)
    client.flushall()
    keys = RedisKeys()
    for i in range(0, len(payloads), 1000):
        append_events(client, keys.ingest_stream, payloads[i : i + 1000], maxlen=10 * len(payloads))
    procs, stop = _start(url, city, workers, 0.5)
    t0 = time.perf_counter()
    deadline = t0 + 600
    while int(client.get(keys.applied_total) or 0) < len(payloads):
        if time.perf_counter() > deadline:
            raise RuntimeError("workers did not finish in 10 minutes")
        time.sleep(0.005)
    elapsed = time.perf_counter() - t0
    _stop(procs, stop)
    return len(payloads) / elapsed


def _probe(grid: str, point: tuple[float, float]) -> tuple[bytes, bytes]:
    eid = uuid.uuid4()
    body = {
        "event_id": str(eid),
        "device_id": f"PROBE-{grid}",
        "device_type": "alarm_button",
        "ts": datetime.now(UTC).isoformat(),
        "lon": point[0],
        "lat": point[1],
        "payload": {"kind": "alarm", "alarm": "button"},
    }
    return eid.bytes, json.dumps(body).encode()


def latency(
    url: str,
    city: Hierarchy,
    background: Sequence[bytes],
    probes: list[tuple[str, tuple[float, float]]],
    rate: int,
    seconds: float,
    delta_interval: float,
) -> dict[str, float]:
    """Return p50/p99 (ms) of XADD->stored and XADD->delta for probes under ``rate`` events/s."""
    client = redis.Redis.from_url(url)
    client.flushall()
    keys = RedisKeys()
    procs, stop = _start(url, city, 1, delta_interval)
    time.sleep(1.0)  # the worker's group and the aggregator's first full publication
    sent: dict[str, float] = {}
    ids: dict[bytes, str] = {}
    stored: dict[str, float] = {}
    shown: dict[str, float] = {}
    done = threading.Event()

    def watch_deltas() -> None:
        sub = client.pubsub()  # type: ignore[no-untyped-call]
        sub.subscribe(keys.push_channel)
        while not done.is_set():
            msg = sub.get_message(timeout=0.05)
            if not msg or msg["type"] != "message":
                continue
            event, data = decode_push(msg["data"])
            if event == "levels" and isinstance(data, dict):
                now = time.perf_counter()
                for code in data.get("levels", {}):
                    if code in sent and code not in shown:
                        shown[code] = now

    def watch_stored() -> None:
        poll = redis.Redis.from_url(url)
        while not done.is_set():
            waiting = [(e, g) for e, g in list(ids.items()) if g not in stored]
            if waiting:
                window = int(time.time() // 900)
                pipe = poll.pipeline(transaction=False)
                for eid, _ in waiting:
                    pipe.hexists(keys.seen(window), eid)
                now = time.perf_counter()
                for (_, grid), hit in zip(waiting, pipe.execute(), strict=True):
                    if hit:
                        stored[grid] = now
            time.sleep(0.001)

    watchers = [threading.Thread(target=watch_deltas), threading.Thread(target=watch_stored)]
    for w in watchers:
        w.start()
    per_slice = max(1, int(rate * SLICE_S))
    t0 = time.perf_counter()
    k = 0
    next_probe = t0
    probe_iter = iter(probes)
    while time.perf_counter() - t0 < seconds:
        slice_start = time.perf_counter()
        chunk = [background[(k + i) % len(background)] for i in range(per_slice)]
        k += per_slice
        append_events(client, keys.ingest_stream, chunk, maxlen=1_000_000)
        if slice_start >= next_probe:
            grid, point = next(probe_iter)
            eid, raw = _probe(grid, point)
            ids[eid] = grid
            sent[grid] = time.perf_counter()
            append_events(client, keys.ingest_stream, [raw])
            next_probe += PROBE_EVERY_S
        time.sleep(max(0.0, SLICE_S - (time.perf_counter() - slice_start)))
    achieved = k / (time.perf_counter() - t0)
    time.sleep(max(2.0, 3 * delta_interval))
    done.set()
    for w in watchers:
        w.join()
    _stop(procs, stop)
    to_store = sorted((stored[g] - t) * 1000 for g, t in sent.items() if g in stored)
    to_show = sorted((shown[g] - t) * 1000 for g, t in sent.items() if g in shown)
    return {
        "rate": achieved,
        "probes": len(sent),
        "stored": len(to_store),
        "shown": len(to_show),
        "store_p50": _pct(to_store, 50),
        "store_p99": _pct(to_store, 99),
        "show_p50": _pct(to_show, 50),
        "show_p99": _pct(to_show, 99),
    }


def _pct(values: Sequence[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the scaling and latency figures; return the exit status."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.ingest_scaling", description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=100_000, help="events per scaling run (default 100000)")
    p.add_argument("--rates", default="5000,20000", help="background loads for the latency runs, events/s")
    p.add_argument("--seconds", type=float, default=10.0, help="length of each latency run (default 10)")
    p.add_argument("--delta-interval", type=float, default=0.5, help="map aggregator tick, s (default 0.5)")
    args = p.parse_args(argv)
    print("# generating the full demo city and the events", file=sys.stderr)
    city = Hierarchy(generate_demo_city(FULL_CITY))
    grids = city.at_level(Level.GRID)
    devices = demo_devices(city, per_grid=3, seed=1)
    quiet = {g.code for g in grids[len(grids) // 2 :]}  # probes only: a probe's grid changes colour alone
    busy = [d for d in devices if d.grid_code not in quiet]
    factory = EventFactory(busy, seed=1)
    payloads = [factory.next_event().to_json().encode() for _ in range(args.events)]
    probes = [(g.code, (g.geometry.representative_point().x, g.geometry.representative_point().y)) for g in grids]
    probes = [p for p in probes if p[0] in quiet]
    scratch = Path(tempfile.mkdtemp(prefix="gw-bench-scale-"))
    server = EmbeddedRedis(scratch, appendonly=False)
    server.start()
    try:
        print("# scaling: 1 worker, then 2", file=sys.stderr)
        one = scaling(server.url, city, payloads, 1)
        two = scaling(server.url, city, payloads, 2)
        lines = [
            "ingest_scaling figures:",
            f"  machine: nproc {mp.cpu_count()}; 12410 grids; {args.events} events of the simulator's mix",
            f"  one worker process, events/s          {one:>10,.0f}",
            f"  two worker processes, events/s        {two:>10,.0f}   ratio {two / one:.2f}",
        ]
        for rate in (int(r) for r in args.rates.split(",")):
            print(f"# latency at {rate} events/s", file=sys.stderr)
            lat = latency(
                server.url,
                city,
                payloads,
                probes[: int(args.seconds / PROBE_EVERY_S) + 50],
                rate,
                args.seconds,
                args.delta_interval,
            )
            lines += [
                f"  latency at {rate}/s asked ({lat['rate']:,.0f}/s sent), {lat['probes']:.0f} probes:",
                f"    XADD -> effect stored   p50 {lat['store_p50']:7.1f} ms   p99 {lat['store_p99']:7.1f} ms"
                f"   ({lat['stored']:.0f} seen)",
                f"    XADD -> delta published p50 {lat['show_p50']:7.1f} ms   p99 {lat['show_p99']:7.1f} ms"
                f"   ({lat['shown']:.0f} seen; aggregator tick {args.delta_interval} s)",
            ]
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print("\n".join(lines))
    print(f"ingest_scaling: one {one:.0f}/s, two {two:.0f}/s, ratio {two / one:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
