"""Throughput of the ingest worker, as a ratio to the raw Redis ceiling measured in the same run.

What is measured: how many events per second one ``IngestWorker`` (one process, one consumer) takes from the
ingest stream to the grid counters, i.e. XREADGROUP, ``parse_event``, ``GridLocator.locate_many`` and the
Lua apply script (XACK, idempotency key, bucket HINCRBY, devices ZADD) per batch, checked for correctness.

Against what: the raw ceiling of the same private redis-server on the same machine, with the same payloads and
the same batch size: a consumer-group drain (XREADGROUP COUNT batch pipelined with XACK of the previous batch,
plus ``json.loads`` of each entry) as the peer script ``shared/bench/peers/redis-ceiling`` measures it (its
"json.loads" column, since the worker decodes too), and the pipelined XADD rate of ``streams.ingest``. The
machines are shared and noisy, so an absolute events/s figure proves little; the ratio ours / ceiling does.

Also timed alone, without Redis, on the same payloads: ``parse_event`` and ``locate_many``, so the output shows
where the worker's time goes. Every figure is the median of ``--repeat`` runs.

Run: ``python -m benchmarks.worker_throughput [--events N] [--batch B] [--repeat R] [--grids G]``.
The last line of output is machine-readable: ``worker_throughput: <ours> events/s (...)``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import redis

from domain.event_batch import parse_events
from domain.events import EventType, InvalidEvent
from domain.simulation import EventFactory
from geo.demo_city import DemoCitySpec, generate_demo_city
from geo.hierarchy import Hierarchy, Level
from geo.lookup import GridLocator
from runtime.bootstrap import demo_devices
from runtime.embedded_redis import EmbeddedRedis
from streams.ingest import DATA_FIELD, append_events
from streams.keys import RedisKeys
from streams.worker import IngestWorker

__all__ = ["main"]

# The full demo city: grids, communities, streets, districts.
FULL_CITY = (12410, 1000, 100, 11)
DEVICES_PER_GRID = 3
SEED = 1
XADD_CHUNK = 1000
APPENDONLY = False  # the same for the ceiling and the worker runs: both run on the one server started below
CEILING_GROUP = "bench-ceiling"
CEILING_CONSUMER = "c1"
WORKER_CONSUMER = "bench"
WORKER_BLOCK_MS = 10


class BenchFailure(RuntimeError):
    """A correctness check failed or a run did not finish in time."""


@dataclass(frozen=True, slots=True)
class Run:
    """Figures of one repeat: rates in items per second, server times in microseconds per event."""

    xadd: float
    ceiling: float
    ours: float
    parse: float
    locate: float
    lua_us: float  # server time per event in the worker's Lua apply script (EVALSHA)
    read_us: float  # server time per event in the worker's XREADGROUP


@dataclass(frozen=True, slots=True)
class Workload:
    """What every repeat runs on: the locator and the pre-serialised payloads."""

    spec: DemoCitySpec
    devices: int
    locator: GridLocator
    payloads: list[bytes]
    activity: int  # events that are not heartbeats
    reporting: int  # distinct devices among the events


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the knobs from the command line."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.worker_throughput", description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=100_000, help="events per run (default 100000)")
    p.add_argument("--batch", type=int, default=500, help="XREADGROUP COUNT of worker and ceiling (default 500)")
    p.add_argument("--repeat", type=int, default=2, help="runs; figures are medians (default 2)")
    p.add_argument("--grids", type=int, default=FULL_CITY[0], help="grids of the demo city (default 12410, full)")
    args = p.parse_args(argv)
    for name in ("events", "batch", "repeat", "grids"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    return args


def city_spec(grids: int) -> DemoCitySpec:
    """Scale communities, streets and districts with the grid count, as in the full city."""
    full_grids, full_communities, full_streets, full_districts = FULL_CITY
    districts = min(99, max(1, round(grids * full_districts / full_grids)))
    streets = max(districts, round(grids * full_streets / full_grids))
    communities = max(streets, round(grids * full_communities / full_grids))
    return DemoCitySpec(grids=grids, communities=min(communities, grids), streets=streets, districts=districts)


def log(message: str) -> None:
    """Print a progress note to stderr."""
    print(f"# {message}", file=sys.stderr, flush=True)


def build_workload(grids: int, events: int) -> Workload:
    """Generate the city, its devices and ``events`` serialised events (untimed)."""
    spec = city_spec(grids)
    log(f"generating the demo city ({spec.grids} grids) and {events} events")
    hierarchy = Hierarchy(generate_demo_city(spec))
    locator = GridLocator(hierarchy.at_level(Level.GRID))
    devices = demo_devices(hierarchy, per_grid=DEVICES_PER_GRID, seed=SEED)
    factory = EventFactory(devices, seed=SEED)
    drawn = [factory.next_event() for _ in range(events)]
    activity = sum(1 for e in drawn if e.type is not EventType.HEARTBEAT)
    reporting = len({e.device_id for e in drawn})
    payloads = [e.to_json().encode() for e in drawn]
    return Workload(spec, len(devices), locator, payloads, activity, reporting)


def fill_stream(client: redis.Redis, stream: str, payloads: Sequence[bytes]) -> float:
    """XADD all payloads with ``append_events`` in chunks; return the seconds it took."""
    t0 = time.perf_counter()
    for start in range(0, len(payloads), XADD_CHUNK):
        append_events(client, stream, payloads[start : start + XADD_CHUNK])
    return time.perf_counter() - t0


def pending_count(client: redis.Redis, stream: str, group: str) -> int:
    """Return how many entries of the group are delivered but not acknowledged."""
    summary: Any = client.xpending(stream, group)
    return int(summary["pending"])


def drain_with_json(client: redis.Redis, stream: str, batch: int) -> tuple[int, float]:
    """Drain the stream as the peer does (XACK of the previous batch + XREADGROUP, json.loads); return n, seconds."""
    client.xgroup_create(stream, CEILING_GROUP, id="0")
    field = DATA_FIELD.encode()
    pipe = client.pipeline(transaction=False)
    prev: list[bytes] = []
    n = 0
    t0 = time.perf_counter()
    while True:
        if prev:
            pipe.xack(stream, CEILING_GROUP, *prev)
        pipe.xreadgroup(CEILING_GROUP, CEILING_CONSUMER, {stream: ">"}, count=batch)
        resp: Any = pipe.execute()[-1]  # the XACK of ``prev`` went in this round trip
        if not resp or not resp[0][1]:
            break
        entries = resp[0][1]
        for _entry_id, fields in entries:
            json.loads(fields[field])
        prev = [entry_id for entry_id, _ in entries]
        n += len(prev)
    return n, time.perf_counter() - t0


def measure_ceiling(client: redis.Redis, keys: RedisKeys, payloads: Sequence[bytes], batch: int) -> tuple[float, float]:
    """Time pipelined XADD and the raw drain+json of the same payloads; return both rates."""
    client.flushall()
    stream = keys.ingest_stream
    xadd_s = fill_stream(client, stream, payloads)
    read, drain_s = drain_with_json(client, stream, batch)
    pending = pending_count(client, stream, CEILING_GROUP)
    if read != len(payloads) or pending != 0:
        raise BenchFailure(f"ceiling drain read {read} of {len(payloads)} entries, {pending} pending")
    return len(payloads) / xadd_s, read / drain_s


def worker_timeout_s(events: int) -> float:
    """Return the safety timeout of one worker run (generous: 1 ms per event, at least 60 s)."""
    return max(60.0, events / 1000)


def bucket_sum(client: redis.Redis, keys: RedisKeys) -> int:
    """Sum every field of every per-minute bucket hash."""
    total = 0
    for key in client.scan_iter(match=f"{keys.prefix}:bucket:*", count=1000):
        values: Any = client.hvals(key)
        total += sum(int(v) for v in values)
    return total


def check_worker(client: redis.Redis, keys: RedisKeys, worker: IngestWorker, work: Workload) -> None:
    """Raise BenchFailure unless every event was applied once, none dead or pending, activity counted."""
    events, totals = len(work.payloads), worker.totals
    pending = pending_count(client, keys.ingest_stream, keys.worker_group)
    counted = bucket_sum(client, keys)  # streams/worker.py: heartbeats are applied but not counted on the map
    applied_total = int(client.get(keys.applied_total) or 0)
    seen = client.zcard(keys.devices_seen)
    problems = [
        f"read {totals.read} != {events}" if totals.read != events else "",
        f"applied {totals.applied} != {events}" if totals.applied != events else "",
        f"{keys.applied_total} {applied_total} != {events}" if applied_total != events else "",
        f"dead {totals.dead} != 0" if totals.dead else "",
        f"pending {pending} != 0" if pending else "",
        f"bucket sum {counted} != {work.activity} non-heartbeat events" if counted != work.activity else "",
        f"devices seen {seen} != {work.reporting}" if seen != work.reporting else "",
    ]
    failed = [p for p in problems if p]
    if failed:
        raise BenchFailure("worker: " + "; ".join(failed))


def time_parse(payloads: Sequence[bytes], batch: int) -> tuple[float, list[float], list[float]]:
    """Time the worker's batch validation (parse_events) on every payload; return events/s and the points."""
    t0 = time.perf_counter()
    parsed = [e for i in range(0, len(payloads), batch) for e in parse_events(payloads[i : i + batch])]
    elapsed = time.perf_counter() - t0
    good = [e for e in parsed if not isinstance(e, InvalidEvent)]
    return len(payloads) / elapsed, [e["lon"] for e in good], [e["lat"] for e in good]


def time_locate(locator: GridLocator, lons: Sequence[float], lats: Sequence[float], batch: int) -> float:
    """Time locate_many on all points in batches; return points/s."""
    unplaced = 0
    t0 = time.perf_counter()
    for start in range(0, len(lons), batch):
        grids = locator.locate_many(lons[start : start + batch], lats[start : start + batch])
        unplaced += grids.count(None)
    elapsed = time.perf_counter() - t0
    if unplaced:
        raise BenchFailure(f"{unplaced} event points fell in no grid")
    return len(lons) / elapsed


def run_once(client: redis.Redis, work: Workload, keys: RedisKeys, batch: int) -> Run:
    """Measure the ceiling, the worker and its pieces once."""
    xadd, ceiling = measure_ceiling(client, keys, work.payloads, batch)
    client.flushall()
    fill_stream(client, keys.ingest_stream, work.payloads)
    ours, lua_us, read_us = run_worker(client, work, keys, batch)
    parse, lons, lats = time_parse(work.payloads, batch)
    locate = time_locate(work.locator, lons, lats, batch)
    return Run(xadd=xadd, ceiling=ceiling, ours=ours, parse=parse, locate=locate, lua_us=lua_us, read_us=read_us)


def server_usec(client: redis.Redis, *commands: str) -> float:
    """Return the server-side microseconds spent in the commands since the last CONFIG RESETSTAT."""
    stats: Any = client.info("commandstats")
    return float(sum(stats.get(f"cmdstat_{c}", {}).get("usec", 0) for c in commands))


def run_worker(client: redis.Redis, work: Workload, keys: RedisKeys, batch: int) -> tuple[float, float, float]:
    """Drain the filled stream with the ingest worker, check its effects; return events/s and server us/event."""
    events = len(work.payloads)
    client.config_resetstat()
    worker = IngestWorker(client, work.locator, keys, consumer=WORKER_CONSUMER, batch=batch, block_ms=WORKER_BLOCK_MS)
    worker.ensure_group()
    deadline = time.perf_counter() + worker_timeout_s(events)
    t0 = time.perf_counter()
    gc.freeze()  # as `app.py worker` does once the city is loaded
    loop = threading.Thread(target=worker.run, name="bench-worker")  # the production loop, pipelined
    loop.start()
    try:
        while worker.totals.read < events:
            if time.perf_counter() > deadline:
                raise BenchFailure(f"worker read only {worker.totals.read} of {events} events before the timeout")
            time.sleep(0.002)
        elapsed = time.perf_counter() - t0
    finally:
        worker.stop()
        loop.join()
    lua_us = server_usec(client, "evalsha", "eval") / events
    read_us = server_usec(client, "xreadgroup") / events
    check_worker(client, keys, worker, work)
    return events / elapsed, lua_us, read_us


def package_version(name: str) -> str:
    """Return an installed distribution's version, or 'absent'."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def machine_facts(client: redis.Redis) -> str:
    """Describe the machine, the interpreter and the server."""
    info: Any = client.info("server")
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"nproc {len(os.sched_getaffinity(0))}, load avg {load}, Python {platform.python_version()}, "
        f"redis-server {info['redis_version']} (embedded, unix socket), "
        f"redis-py {package_version('redis')} + hiredis {package_version('hiredis')}"
    )


def median_run(runs: Sequence[Run]) -> Run:
    """Return the per-figure median of the runs."""
    return Run(
        xadd=statistics.median(r.xadd for r in runs),
        ceiling=statistics.median(r.ceiling for r in runs),
        ours=statistics.median(r.ours for r in runs),
        parse=statistics.median(r.parse for r in runs),
        locate=statistics.median(r.locate for r in runs),
        lua_us=statistics.median(r.lua_us for r in runs),
        read_us=statistics.median(r.read_us for r in runs),
    )


def figure(label: str, med: float, values: Sequence[float]) -> str:
    """Format one figure row: median, then every run."""
    runs = ", ".join(f"{v:,.0f}" for v in values)
    return f"  {label:<58} {med:>10,.0f}   (runs: {runs})"


def microseconds(rate: float) -> float:
    """Turn a rate per second into microseconds per item."""
    return 1e6 / rate


def context_lines(work: Workload, args: argparse.Namespace, runs: Sequence[Run], facts: str) -> list[str]:
    """Render what was run, where and on what."""
    spec = work.spec
    avg = sum(map(len, work.payloads)) / len(work.payloads)
    persistence = "appendonly yes" if APPENDONLY else "appendonly no, no RDB saves"
    return [
        f"worker_throughput figures (median of {len(runs)} repeat(s), every run in brackets):",
        f"  machine: {facts}",
        f"  redis persistence: {persistence}, the same for the ceiling and the worker runs (one server)",
        f"  city: {spec.grids} grids / {spec.communities} communities / {spec.streets} streets / "
        f"{spec.districts} districts, {work.devices} devices",
        f"  load: {len(work.payloads)} events of avg {avg:.0f} B JSON (pre-serialised), batch {args.batch}",
    ]


def rate_lines(args: argparse.Namespace, runs: Sequence[Run]) -> list[str]:
    """Render the rates: ceiling, ours, the ratio and the pieces."""
    med = median_run(runs)
    return [
        figure(f"ceiling XADD pipelined (append_events x{XADD_CHUNK}), entries/s", med.xadd, [r.xadd for r in runs]),
        figure(
            f"ceiling drain XREADGROUP {args.batch}+XACK+json.loads, entries/s", med.ceiling, [r.ceiling for r in runs]
        ),
        figure("ours IngestWorker.run loop (pipelined), events/s", med.ours, [r.ours for r in runs]),
        f"  {'ratio ours / ceiling drain+json (of medians)':<58} {med.ours / med.ceiling:>10.2f}   "
        f"(runs: {', '.join(f'{r.ours / r.ceiling:.2f}' for r in runs)})",
        figure("parse_events (batch validation) alone, events/s", med.parse, [r.parse for r in runs]),
        figure(f"GridLocator.locate_many alone (x{args.batch}), points/s", med.locate, [r.locate for r in runs]),
    ]


def breakdown_lines(runs: Sequence[Run]) -> list[str]:
    """Render where a worker event's time goes, in microseconds."""
    med = median_run(runs)
    total, parse, locate = microseconds(med.ours), microseconds(med.parse), microseconds(med.locate)
    other = total - parse - locate - med.lua_us - med.read_us
    return [
        f"  per event, us (medians): worker {total:.1f} = parse_events {parse:.1f} + locate {locate:.1f}"
        f" + redis-server in Lua apply (EVALSHA) {med.lua_us:.1f} + in XREADGROUP {med.read_us:.1f}",
        f"    + other {other:.1f} (client side: redis-py I/O and reply parsing, building the Lua args, glue);"
        f" ceiling drain+json {microseconds(med.ceiling):.1f}",
    ]


def check_lines(work: Workload) -> list[str]:
    """Render the correctness checks every run passed."""
    return [
        "  checks OK every run: ceiling read all, 0 pending;"
        f" worker read = applied = gw:applied = {len(work.payloads)},",
        f"    0 dead, 0 pending, devices seen = {work.reporting}, gw:bucket:* sum = {work.activity}"
        " (the non-heartbeat events: the worker does not count heartbeats on the map)",
    ]


def figures_block(work: Workload, args: argparse.Namespace, runs: Sequence[Run], facts: str) -> list[str]:
    """Render the human-readable figures."""
    head = context_lines(work, args, runs, facts)
    return [*head, *rate_lines(args, runs), *breakdown_lines(runs), *check_lines(work)]


def final_line(med: Run, args: argparse.Namespace) -> str:
    """Render the one machine-readable summary line."""
    return (
        f"worker_throughput: {med.ours:.0f} events/s (ceiling drain+json {med.ceiling:.0f}/s, "
        f"ratio {med.ours / med.ceiling:.2f}; xadd {med.xadd:.0f}/s; parse {med.parse:.0f}/s; "
        f"locate {med.locate:.0f}/s; grids {args.grids}; batch {args.batch})"
    )


def measure(server: EmbeddedRedis, work: Workload, args: argparse.Namespace) -> tuple[list[Run], str]:
    """Run every repeat against the started server; return the runs and the machine facts."""
    client = redis.Redis(unix_socket_path=server.socket_path)
    try:
        runs: list[Run] = []
        for i in range(args.repeat):
            log(f"repeat {i + 1}/{args.repeat}: ceiling, worker, parse, locate")
            runs.append(run_once(client, work, RedisKeys(), args.batch))
        return runs, machine_facts(client)
    finally:
        client.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the figures and the summary line; return the exit status."""
    args = parse_args(argv)
    work = build_workload(args.grids, args.events)
    scratch = Path(tempfile.mkdtemp(prefix="gw-bench-"))
    server = EmbeddedRedis(scratch, appendonly=APPENDONLY)
    try:
        server.start()
        runs, facts = measure(server, work, args)
    except BenchFailure as exc:
        print(f"worker_throughput: FAIL ({exc})")
        return 1
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print("\n".join(figures_block(work, args, runs, facts)))
    print(final_line(median_run(runs), args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
