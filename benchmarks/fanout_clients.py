"""N Socket.IO clients in one asyncio process: the peer fan-out driver's worker, logged in.

This is the worker of ``shared/bench/peers/socketio-fanout`` (its ``driver.py``), kept line for line
where it matters for the figures (python-socketio ``AsyncClient(reconnection=False)``, websocket
transport only, 50 connects at a time, ``wait_timeout=20``, a 180 s cap on connecting, the same
window/grace protocol on stdin/stdout and the same latency record), with three additions:

* each client sends a session cookie (``Cookie`` header), as a browser tab of a logged-in user does;
* the event name is a parameter (Gridwatch pushes ``levels``, the peer ``tick``);
* each client checks its own sequence numbers (gaps, repeats), and the first client records the
  size of the raw Engine.IO frames of that event (the bytes each socket gets per update).

Run by :mod:`benchmarks.socket_fanout` as ``python -m benchmarks.fanout_clients URL COUNT EVENT``
with the cookie headers as a JSON list in ``GW_FANOUT_COOKIES`` (client i uses cookie i mod len).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from typing import Any

__all__ = ["worker"]

GRACE = 2.0


async def worker(url: str, count: int, event: str, cookies: list[str]) -> None:
    """Connect ``count`` clients, report, wait for the window, report the latencies of that window."""
    import socketio  # type: ignore[import-untyped]  # no type hints shipped

    asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: None)  # silence aiohttp teardown noise
    rec: list[tuple[int, float, float]] = []
    gaps = [0]
    repeats = [0]
    frames: list[int] = []

    def make(i: int) -> Any:
        c = socketio.AsyncClient(reconnection=False)
        last = [-1]

        def tick(d: dict[str, Any]) -> None:
            rec.append((d["seq"], d["ts"], time.time()))
            s = int(d["seq"])
            if last[0] >= 0:
                if s <= last[0]:
                    repeats[0] += 1
                elif s != last[0] + 1:
                    gaps[0] += 1
            last[0] = max(last[0], s)

        c.on(event, tick)
        if i == 0:  # one client measures the frames on the wire; the others run the peer's code as is
            handle = c._handle_eio_message
            prefix = f'42["{event}",'

            async def sized(data: Any) -> None:
                if isinstance(data, str) and data.startswith(prefix[1:]):
                    frames.append(len(data.encode()) + 1)  # + the Engine.IO type byte "4"
                await handle(data)

            c.eio.on("message", sized)  # the client registered its handler with Engine.IO at construction
        return c

    clients = [make(i) for i in range(count)]
    sem = asyncio.Semaphore(50)
    fails = [0]

    async def conn(i: int, c: Any) -> None:
        async with sem:
            try:
                headers = {"Cookie": cookies[i % len(cookies)]} if cookies else {}
                await c.connect(url, headers=headers, transports=["websocket"], wait_timeout=20)
            except Exception:  # noqa: BLE001 - counted, as the peer driver does
                fails[0] += 1

    tc = time.time()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(conn(i, c) for i, c in enumerate(clients))), timeout=180)
    connected = sum(1 for c in clients if c.connected)
    print(json.dumps({"ready": connected, "fails": fails[0], "conn_s": time.time() - tc}), flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    t0, t1 = map(float, line.split())
    await asyncio.sleep(max(0.0, t0 - time.time()))
    c0 = time.process_time()
    await asyncio.sleep(max(0.0, t1 - time.time()))
    c1 = time.process_time()
    await asyncio.sleep(GRACE)
    still = sum(1 for c in clients if c.connected)
    win = [(s, r - ts) for (s, ts, r) in rec if t0 <= ts < t1]
    print(
        json.dumps(
            {
                "connected": connected,
                "still": still,
                "fails": fails[0],
                "cpu": (c1 - c0) / (t1 - t0),
                "seqs": sorted({s for s, _ in win}),
                "lat": [round(lat * 1000, 3) for _, lat in win],
                "gaps": gaps[0],
                "repeats": repeats[0],
                "frame_bytes": (sum(frames) / len(frames)) if frames else None,
            }
        ),
        flush=True,
    )

    async def disc(c: Any) -> None:
        with contextlib.suppress(Exception):  # teardown only
            await asyncio.wait_for(c.disconnect(), 5)

    await asyncio.gather(*(disc(c) for c in clients))


if __name__ == "__main__":
    asyncio.run(
        worker(sys.argv[1], int(sys.argv[2]), sys.argv[3], json.loads(os.environ.get("GW_FANOUT_COOKIES", "[]")))
    )
