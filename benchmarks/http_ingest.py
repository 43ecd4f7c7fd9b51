"""Events/s accepted by ``POST /api/v1/events``: signed batches of 100 from several devices, over real HTTP.

The server is ``python app.py serve`` (its own process, on loopback, the small demo city: the HTTP
path does no placement), with a private Redis started here. Each client thread is one registered
device with its own secret, on one keep-alive connection, signing every batch with a fresh nonce
(``docs/events.md``). Counted: events the server answered ``accepted`` for, per second; checked:
the ingest stream holds exactly that many entries afterwards.

Run: ``python -m benchmarks.http_ingest [--seconds S] [--clients C] [--batch B]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import redis

from domain.devices import Device, DeviceType
from geo.hierarchy import Level
from runtime.bootstrap import ensure_demo_city, open_database
from runtime.embedded_redis import EmbeddedRedis
from security.device_signature import new_secret, sign
from settings import Settings
from storage.device_repository import DeviceRepository

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
SMALL = {
    "GRIDWATCH_DEMO_GRIDS": "400",
    "GRIDWATCH_DEMO_COMMUNITIES": "40",
    "GRIDWATCH_DEMO_STREETS": "9",
    "GRIDWATCH_DEMO_DISTRICTS": "3",
    "GRIDWATCH_DEMO_SEED": "7",
    "GRIDWATCH_DEVICES_PER_GRID": "1",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _batch(device: str, point: tuple[float, float], n: int) -> bytes:
    now = datetime.now(UTC).isoformat()
    events = [
        {
            "event_id": str(uuid.uuid4()),
            "device_id": device,
            "device_type": "gate",
            "ts": now,
            "lon": point[0],
            "lat": point[1],
            "payload": {"kind": "gate_pass", "direction": "in", "person": "resident", "health_code": "green"},
        }
        for _ in range(n)
    ]
    return json.dumps({"events": events}).encode()


def _client(
    port: int, device: str, secret: str, point: tuple[float, float], batch: int, until: float, counts: list[int]
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    accepted = 0
    while time.perf_counter() < until:
        body = _batch(device, point, batch)
        ts, nonce = int(time.time()), secrets.token_urlsafe(18)
        headers = {
            "Content-Type": "application/json",
            "X-Device-Id": device,
            "X-Timestamp": str(ts),
            "X-Nonce": nonce,
            "X-Signature": sign(secret, ts, nonce, body),
        }
        conn.request("POST", "/api/v1/events", body=body, headers=headers)
        resp = conn.getresponse()
        answer = json.loads(resp.read())
        if resp.status != 202:
            raise RuntimeError(f"refused: {resp.status} {answer}")
        accepted += sum(1 for r in answer["results"] if r["status"] == "accepted")
    counts.append(accepted)
    conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the load; print the figures; return the exit status."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.http_ingest", description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--batch", type=int, default=100)
    args = p.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="gw-bench-http-"))
    server = EmbeddedRedis(scratch / "redis", appendonly=False)
    server.start()
    port = _free_port()
    env = {
        **os.environ,
        **SMALL,
        "GRIDWATCH_DATA_DIR": str(scratch / "var"),
        "GRIDWATCH_REDIS_URL": server.url,
        "GRIDWATCH_PORT": str(port),
        "GRIDWATCH_LOG_LEVEL": "WARNING",
        "GRIDWATCH_DEMO_USERS": "0",
    }
    settings = Settings.from_env(env)
    engine = open_database(settings)
    city = ensure_demo_city(engine, settings)
    grid = city.at_level(Level.GRID)[0]
    point = (grid.geometry.representative_point().x, grid.geometry.representative_point().y)
    devices = {f"BENCH-{i}": new_secret() for i in range(args.clients)}
    DeviceRepository(engine).register_many(
        [(Device(d, DeviceType.GATE, *point, grid.code), s) for d, s in devices.items()]
    )
    engine.dispose()
    log = (scratch / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "app.py", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"the server did not start; see {scratch / 'serve.log'}") from None
                time.sleep(0.2)
        counts: list[int] = []
        start = time.perf_counter()
        until = start + args.seconds
        threads = [
            threading.Thread(target=_client, args=(port, d, s, point, args.batch, until, counts))
            for d, s in devices.items()
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        total = sum(counts)
        in_stream = redis.Redis.from_url(server.url).xlen(settings.ingest_stream)
        rate = total / elapsed
        print("http_ingest figures:")
        print(f"  {args.clients} devices x keep-alive connection, signed batches of {args.batch}, {elapsed:.1f} s")
        print(f"  accepted events/s {rate:,.0f} ({rate / args.batch:,.0f} requests/s); in the stream: {in_stream}")
        if in_stream != total:
            print(f"http_ingest: FAIL (accepted {total}, stream holds {in_stream})")
            return 1
        print(f"http_ingest: {rate:.0f} events/s (batches of {args.batch}, {args.clients} clients)")
        return 0
    finally:
        proc.terminate()
        proc.wait(20)
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
