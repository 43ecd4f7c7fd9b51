"""Socket.IO fan-out: how many logged-in screens one Gridwatch web process keeps live at 2 updates/s.

What is measured: the real app, as the production ``app.py web`` under gunicorn's gevent worker
(``web-gevent``: Flask-SocketIO in gevent mode, a greenlet per socket) and under its gthread worker
(``web``: threading mode, ``GRIDWATCH_WEB_THREADS`` sized to the rung), and optionally as the
development ``app.py serve`` (Werkzeug's threading server), on a private
Redis and a small demo city, with real accounts (``app.py users create --password-stdin``: a few
city operators and district leaders, one person one password). Each account logs in once over HTTP;
its session cookie is then shared by many sockets, the way several tabs of one browser share a
login. A publisher in this process sends a ``levels`` push at HZ through the real path: the
aggregator's message (``encode_push``: seq, ts, changed levels) on the Redis push channel, the
``PushBridge`` in the web process, ``SocketRooms.route`` cutting it down to each room's jurisdiction,
one emit per room. ``ts`` is stamped just before the PUBLISH, so the latency includes the Redis hop,
which the peer's (stamped at the emit) does not.

Against what: ``shared/bench/peers/socketio-fanout`` (bare Flask-SocketIO broadcasting a ~120 B
JSON at 2 Hz), run first in the same run with the same ladder and knobs; its client worker is the
one in :mod:`benchmarks.fanout_clients` (same code, plus the cookie). Both ladders use a fresh server
per step, WARM s warm-up, a WINDOW s window, 2 s grace, and pass a step when every client connected
and stayed connected, delivery >= 99 % and p99 <= P99_MAX_MS; each stops at its first failing step.

Run: ``python -m benchmarks.socket_fanout`` (knobs as the peer's environment variables: LADDER,
HZ, WARM, WINDOW, P99_MAX_MS, PROCS; ``--no-peer`` skips the peer; ``SERVERS=web-gevent,web,serve`` picks
the stacks, in that order; the default is ``web-gevent,web``). Figures are printed, not
asserted. The last line is machine-readable: ``socket-fanout: <N> clients (...)``.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from geo.hierarchy import Hierarchy, Level
from runtime.embedded_redis import EmbeddedRedis
from storage.database import make_engine
from storage.repositories import GeoRepository
from streams.aggregates import encode_push
from streams.keys import RedisKeys

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
PEER = Path(os.environ.get("GW_PEER_FANOUT", ROOT.parent / "shared" / "bench" / "peers" / "socketio-fanout"))
SMALL = {"GRIDWATCH_DEMO_GRIDS": "400", "GRIDWATCH_DEMO_COMMUNITIES": "40", "GRIDWATCH_DEMO_STREETS": "9"}
SMALL |= {"GRIDWATCH_DEMO_DISTRICTS": "3", "GRIDWATCH_DEMO_SEED": "7", "GRIDWATCH_DEVICES_PER_GRID": "1"}
INITIAL, PASSWORD = "one-time benchmark password", "benchmark passphrase for the fan-out"
# The stacks measured: app.py's production command under gunicorn's gthread worker and under its gevent worker,
# and the development command (Werkzeug): name -> (app.py command, extra environment).
SERVERS: dict[str, tuple[str, dict[str, str]]] = {
    "web": ("web", {"GRIDWATCH_WEB_WORKER": "gthread"}),
    "web-gevent": ("web", {"GRIDWATCH_WEB_WORKER": "gevent"}),
    "serve": ("serve", {}),
}
THREADS_SPARE = 32  # gthread threads beyond one per socket: logins, probes, the short HTTP requests
LEVELS_PER_PUSH = 8  # grids whose level changed in one aggregator tick (a busy afternoon)


@dataclass(frozen=True, slots=True)
class Knobs:
    """The peer script's knobs, read from the same environment variables."""

    ladder: list[int]
    hz: float
    warm: float
    window: float
    p99_max: float
    procs: int
    servers: tuple[str, ...] = ("web-gevent", "web")

    @classmethod
    def from_env(cls) -> Knobs:
        env = os.environ
        return cls(
            ladder=[int(x) for x in env.get("LADDER", "100,300,500,700,1000,1500").split(",")],
            hz=float(env.get("HZ", "2")),
            warm=float(env.get("WARM", "3")),
            window=float(env.get("WINDOW", "10")),
            p99_max=float(env.get("P99_MAX_MS", "250")),
            procs=int(env.get("PROCS", "1")),
            servers=tuple(x for x in env.get("SERVERS", "web-gevent,web").split(",") if x in SERVERS),
        )

    def env(self) -> dict[str, str]:
        """The knobs as the peer script reads them."""
        return {
            "LADDER": ",".join(map(str, self.ladder)),
            "HZ": f"{self.hz:g}",
            "WARM": f"{self.warm:g}",
            "WINDOW": f"{self.window:g}",
            "P99_MAX_MS": f"{self.p99_max:g}",
            "PROCS": str(self.procs),
        }


@dataclass(frozen=True, slots=True)
class Step:
    """One rung of a ladder."""

    n: int
    connected: int
    delivery: float  # share of expected messages received in the window
    p50: float
    p99: float
    passed: bool
    frame_bytes: float | None = None
    gaps: int = 0
    repeats: int = 0
    srv_cpu: float = float("nan")
    cli_cpu: float = float("nan")
    delivered: int = 0
    expected: int = 0


# -- the peer ----------------------------------------------------------------------------------------
_PEER_STEP = re.compile(
    r"N=\s*(\d+): connected (\d+)/\d+ .*?delivery ([\d.]+)% \((\d+)/(\d+).*?"
    r"p50 ([\d.]+|nan) ms p99 ([\d.]+|nan) ms.*?cpu server (\d+)% client (\d+)% -> (PASS|FAIL)"
)


def peer_frame_bytes() -> int:
    """Bytes on the wire per update in the peer: its message, encoded as python-socketio does."""
    from socketio import packet  # type: ignore[import-untyped]

    data = {"ts": time.time(), "seq": 20, "type": "alert", "grid": "G01234", "severity": "warning"}
    data |= {"state": "firing", "count": 3}
    return 1 + len(packet.Packet(packet.EVENT, data=["tick", data]).encode().encode())


def run_peer(knobs: Knobs, n: int) -> tuple[Step | None, str]:
    """Run the peer script on one rung (LADDER=n, the other knobs as ours); its step and its final line."""
    if not PEER.exists():
        return None, f"peer script {PEER} is absent: no ratio"
    proc = subprocess.run(  # noqa: S603 - the peer script at a fixed path
        ["bash", str(PEER)],  # noqa: S607
        env={**os.environ, **knobs.env(), "LADDER": str(n)},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    last = lines[-1] if lines else ""
    if proc.returncode != 0 or not last.startswith("socketio-fanout:"):
        return None, f"peer failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}"
    for ln in lines:
        s = _PEER_STEP.search(ln)
        if s:
            g = s.groups()
            step = Step(
                n=int(g[0]),
                connected=int(g[1]),
                delivery=float(g[2]) / 100,
                delivered=int(g[3]),
                expected=int(g[4]),
                p50=float(g[5]),
                p99=float(g[6]),
                srv_cpu=int(g[7]) / 100,
                cli_cpu=int(g[8]) / 100,
                passed=g[9] == "PASS",
                frame_bytes=peer_frame_bytes(),
            )
            return step, last
    return None, f"peer printed no step: {last}"


# -- Gridwatch ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class City:
    """What the benchmark needs of the app it set up."""

    env: dict[str, str]
    redis_url: str
    grids: list[str]
    accounts: list[tuple[str, str, str]]  # username, role, unit


def _app(args: Sequence[str], env: dict[str, str], stdin: str | None = None) -> None:
    subprocess.run(  # noqa: S603 - our own app.py
        [sys.executable, str(ROOT / "app.py"), *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        input=stdin.encode() if stdin is not None else None,
        timeout=600,
    )


@contextmanager
def small_city(tmp: Path) -> Iterator[City]:
    """A private Redis, the small demo city, and a handful of real accounts."""
    with EmbeddedRedis(tmp / "redis", appendonly=False) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWATCH_")}
        env |= SMALL | {"GRIDWATCH_DATA_DIR": str(tmp / "var"), "GRIDWATCH_REDIS_URL": server.url}
        _app(["init"], env)
        engine = make_engine(f"sqlite:///{tmp / 'var' / 'gridwatch.db'}")
        city = Hierarchy(GeoRepository(engine).load_units())
        engine.dispose()
        accounts = [("ops1", "city_operator", city.city.code), ("ops2", "city_operator", city.city.code)]
        accounts += [(f"lead{i}", "district_leader", d.code) for i, d in enumerate(city.at_level(Level.DISTRICT))]
        for username, role, unit in accounts:
            _app(["users", "create", username, "--role", role, "--unit", unit, "--password-stdin"], env, INITIAL + "\n")
        grids = sorted(u.code for u in city.at_level(Level.GRID))
        yield City(env, server.url, grids, accounts)


def _post(opener: urllib.request.OpenerDirector, url: str, form: dict[str, str]) -> str:
    with opener.open(url, data=urllib.parse.urlencode(form).encode(), timeout=30) as resp:
        return str(resp.url)


def login_cookie(base: str, username: str, first: bool) -> str:
    """Log in over HTTP as a browser does (the forced password change the first time); the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    if first:
        _post(opener, f"{base}/login", {"username": username, "password": INITIAL})
        form = {"current": INITIAL, "new": PASSWORD, "repeat": PASSWORD}
        if _post(opener, f"{base}/account/password", form).endswith("/account/password"):
            raise RuntimeError(f"password change refused for {username}")
        jar.clear()
    if "/login" in _post(opener, f"{base}/login", {"username": username, "password": PASSWORD}):
        raise RuntimeError(f"login refused for {username}")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


class Publisher:
    """Publish the aggregator's ``levels`` message at HZ on the push channel, as its tick does."""

    def __init__(self, url: str, grids: list[str], hz: float) -> None:
        self._r = redis.Redis.from_url(url)
        self._channel = RedisKeys().push_channel
        self._grids = grids
        self._hz = hz
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.sent = 0

    def __enter__(self) -> Publisher:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._r.close()

    def _run(self) -> None:
        stride = max(1, len(self._grids) // LEVELS_PER_PUSH)
        seq, nxt = 0, time.time()
        while not self._stop.is_set():
            nxt += 1.0 / self._hz
            if self._stop.wait(max(0.0, nxt - time.time())):
                return
            seq += 1
            changed = {
                self._grids[(seq + i * stride) % len(self._grids)]: (seq + i) % 4 for i in range(LEVELS_PER_PUSH)
            }
            self._r.publish(self._channel, encode_push("levels", {"seq": seq, "ts": time.time(), "levels": changed}))
            self.sent += 1


def _cpu_s(pid: int) -> float:
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def _worker_pid(pid: int) -> int:
    """The process that serves the sockets: gunicorn's single worker (the arbiter's child), else ``pid``."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = children.read_text().split() if children.exists() else []
    return int(kids[0]) if kids else pid


def _wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback URL we built
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(lat: list[float], q: float) -> float:
    """The peer driver's percentile (index int(q * n) of the sorted latencies)."""
    return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")


def gridwatch_step(city: City, n: int, knobs: Knobs, cookies: list[str], logs: Path, server: str) -> Step:
    """One rung: a fresh ``web`` or ``serve`` process, N logged-in clients, a window of pushes at HZ."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (logs / f"{server}-{n}.log").open("wb")
    env = city.env | {"GRIDWATCH_PORT": str(port), "GRIDWATCH_HOST": "127.0.0.1"}
    # gthread: every open WebSocket holds one worker thread for its life, so the rung sizes the pool.
    command, extra = SERVERS[server]
    env |= {"GRIDWATCH_WEB_THREADS": str(n + THREADS_SPARE)} | extra
    srv = subprocess.Popen(  # noqa: S603 - our own app.py
        [sys.executable, "-W", "ignore", str(ROOT / "app.py"), command],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    workers: list[subprocess.Popen[str]] = []
    try:
        _wait_http(f"{base}/healthz")
        with Publisher(city.redis_url, city.grids, knobs.hz):
            counts = [n // knobs.procs + (1 if i < n % knobs.procs else 0) for i in range(knobs.procs)]
            wenv = {**os.environ, "GW_FANOUT_COOKIES": json.dumps(cookies)}
            for i, k in enumerate(counts):
                if not k:
                    continue
                err = (logs / f"clients-{n}-{i}.err").open("w")
                cmd = [sys.executable, "-W", "ignore", "-m", "benchmarks.fanout_clients", base, str(k), "levels"]
                workers.append(
                    subprocess.Popen(  # noqa: S603 - our own client module
                        cmd, cwd=ROOT, env=wenv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True
                    )
                )
            for w in workers:
                json.loads(_readline(w))
            t0 = time.time() + knobs.warm
            t1 = t0 + knobs.window
            for w in workers:
                assert w.stdin is not None
                w.stdin.write(f"{t0} {t1}\n")
                w.stdin.flush()
            time.sleep(max(0.0, t0 - time.time()))
            pid = _worker_pid(srv.pid)  # gunicorn's worker, not its arbiter; Werkzeug's own process
            s0 = _cpu_s(pid)
            time.sleep(max(0.0, t1 - time.time()))
            s1 = _cpu_s(pid)
            outs = [json.loads(_readline(w)) for w in workers]
        connected = sum(o["connected"] for o in outs)
        still = sum(o["still"] for o in outs)
        ticks = len(set().union(*[set(o["seqs"]) for o in outs]))
        lat = sorted(x for o in outs for x in o["lat"])
        expected = connected * ticks
        delivery = len(lat) / expected if expected else 0.0
        p99 = _pct(lat, 0.99)
        sizes = [o["frame_bytes"] for o in outs if o["frame_bytes"]]
        return Step(
            n=n,
            connected=connected,
            delivery=delivery,
            p50=_pct(lat, 0.5),
            p99=p99,
            passed=connected == n and still == n and delivery >= 0.99 and p99 <= knobs.p99_max,
            frame_bytes=sizes[0] if sizes else None,
            gaps=sum(o["gaps"] for o in outs),
            repeats=sum(o["repeats"] for o in outs),
            srv_cpu=(s1 - s0) / (t1 - t0),
            cli_cpu=sum(o["cpu"] for o in outs),
            delivered=len(lat),
            expected=expected,
        )
    finally:
        for w in workers:
            try:
                w.wait(15)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
        srv.terminate()
        try:
            srv.wait(10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
        log.close()


def _readline(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"client worker {proc.pid} ended early (see its .err log)")
    return line


@dataclass
class Ladder:
    """Both ladders, climbed side by side: on each rung the peer, then Gridwatch, each until it fails."""

    peer: list[Step]
    ours: dict[str, list[Step]]  # by server command
    peer_best: int | None
    best: dict[str, int]
    peer_note: str
    sessions: int


def climb(knobs: Knobs, logs: Path, *, with_peer: bool) -> Ladder:
    """Run the rungs alternately, so both stacks meet the same load on the shared machine."""
    note = "" if with_peer else "peer skipped (--no-peer): no ratio"
    out = Ladder([], {k: [] for k in knobs.servers}, 0 if with_peer else None, dict.fromkeys(knobs.servers, 0), note, 0)
    with tempfile.TemporaryDirectory(prefix="gw-fanout-") as tmp_name, small_city(Path(tmp_name)) as city:
        cookies = _first_logins(city, logs)  # sessions live in Redis: they outlive each step's server
        out.sessions = len(cookies)
        peer_on, ours_on = with_peer, set(knobs.servers)
        for n in knobs.ladder:
            if peer_on:
                step, note = run_peer(knobs, n)
                if step is None:
                    out.peer_best, out.peer_note, peer_on = None, note, False
                else:
                    out.peer.append(step)
                    out.peer_note = note
                    _print_step("peer", step)
                    peer_on = step.passed
                    out.peer_best = n if step.passed else out.peer_best
            for server in knobs.servers:
                if server in ours_on:
                    ours = gridwatch_step(city, n, knobs, cookies, logs, server)
                    out.ours[server].append(ours)
                    _print_step(f"gridwatch/{server}", ours)
                    if ours.passed:
                        out.best[server] = n
                    else:
                        ours_on.discard(server)
            if not (peer_on or ours_on):
                break
    return out


def _first_logins(city: City, logs: Path) -> list[str]:
    port = _free_port()
    env = city.env | {"GRIDWATCH_PORT": str(port), "GRIDWATCH_HOST": "127.0.0.1"}
    with (logs / "serve-login.log").open("wb") as log:
        srv = subprocess.Popen(  # noqa: S603 - our own app.py
            [sys.executable, "-W", "ignore", str(ROOT / "app.py"), "serve"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_http(f"http://127.0.0.1:{port}/healthz")
            return [login_cookie(f"http://127.0.0.1:{port}", username, first=True) for username, _, _ in city.accounts]
        finally:
            srv.terminate()
            srv.wait(10)


# -- output ------------------------------------------------------------------------------------------
def _print_step(who: str, s: Step) -> None:
    size = f"{s.frame_bytes:.0f} B" if s.frame_bytes else "?"
    print(
        f"  {who:16} N={s.n:5d}: connected {s.connected}/{s.n}, delivery {s.delivery * 100:.2f}% "
        f"({s.delivered}/{s.expected}, gaps {s.gaps}, repeats {s.repeats}), p50 {s.p50:.1f} ms p99 {s.p99:.1f} ms, "
        f"{size}/update, cpu server {s.srv_cpu * 100:.0f}% client {s.cli_cpu * 100:.0f}% "
        f"-> {'PASS' if s.passed else 'FAIL'}",
        flush=True,
    )


def table(peer: list[Step], ours: dict[str, list[Step]]) -> str:
    """The ladders side by side."""
    head = "| N | stack | connected | delivered | p50 ms | p99 ms | bytes/update | server cpu | result |"
    rows = [head, "|---|---|---|---|---|---|---|---|---|"]
    for n in sorted({s.n for s in peer} | {s.n for steps in ours.values() for s in steps}):
        stacks: list[tuple[str, list[Step]]] = [("peer", peer), *((f"gridwatch/{k}", v) for k, v in ours.items())]
        for who, steps in stacks:
            for s in steps:
                if s.n == n:
                    size = f"{s.frame_bytes:.0f}" if s.frame_bytes else "?"
                    rows.append(
                        f"| {n} | {who} | {s.connected}/{n} | {s.delivery * 100:.2f} % | {s.p50:.1f} | {s.p99:.1f} | "
                        f"{size} | {s.srv_cpu * 100:.0f} % | {'pass' if s.passed else 'FAIL'} |"
                    )
    return "\n".join(rows)


def _detail(steps: list[Step], best: int) -> str:
    """The passing rung's figures and, if the ladder stopped, why."""
    last = next((s for s in steps if s.n == best), None)
    fail = next((s for s in steps if not s.passed), None)
    det = f"p99 {last.p99:.0f} ms p50 {last.p50:.1f} ms at {best}" if last else "none passed"
    if fail:
        det += f", next {fail.n}: p99 {fail.p99:.0f} ms, delivery {fail.delivery * 100:.2f}%"
        det += f", connected {fail.connected}"
    else:
        det += ", ladder top reached"
    return det


def main(argv: Sequence[str] | None = None) -> int:
    """Run the peer's ladder, then Gridwatch's, and print both with the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-peer", action="store_true", help="skip the peer script (no ratio)")
    parser.add_argument("--logs", type=Path, default=None, help="keep the server and client logs here")
    args = parser.parse_args(argv)
    knobs = Knobs.from_env()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 20000 if hard == resource.RLIM_INFINITY else min(20000, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    load0 = os.getloadavg()
    print(
        f"socket fan-out ({knobs.hz:g} Hz per client, ladder {knobs.ladder}, warm {knobs.warm:g}s, "
        f"window {knobs.window:g}s, "
        f"p99 <= {knobs.p99_max:g} ms, client procs {knobs.procs}, {os.cpu_count()} cpu shared with the clients, "
        f"load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f})",
        flush=True,
    )
    logs = args.logs or Path(tempfile.mkdtemp(prefix="gw-fanout-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    lad = climb(knobs, logs, with_peer=not args.no_peer)
    print(f"  peer, last line of its last rung: {lad.peer_note}", flush=True)
    load1 = os.getloadavg()
    print()
    print(table(lad.peer, lad.ours))
    print()
    peer_best = lad.peer_best
    peer = peer_best if peer_best is not None else "n/a"
    parts = []
    for server in knobs.servers:
        best, ratio = lad.best[server], f"{lad.best[server] / peer_best:.2f}x" if peer_best else "n/a"
        print(f"largest passing N: gridwatch/{server} {best}, peer {peer}; ratio ours/peer {ratio}")
        parts.append(f"{server}: {best} clients, {_detail(lad.ours[server], best)}, ratio {ratio}")
    # The headline is the first server command (the production ``web`` unless SERVERS says otherwise).
    head = lad.best[knobs.servers[0]] if knobs.servers else 0
    print(
        f"socket-fanout: {head} clients (max N with p99<= {knobs.p99_max:.0f} ms at {knobs.hz:g} Hz per client; "
        f"{'; '.join(parts)}; peer {peer}; {lad.sessions} login sessions shared by the sockets; "
        f"load {load0[0]:.1f}->{load1[0]:.1f}; {knobs.procs} client proc(s), {os.cpu_count()} cpu shared with clients; "
        f"ratio {f'{head / peer_best:.2f}x' if peer_best else 'n/a'})",
        flush=True,
    )
    if not args.logs:
        shutil.rmtree(logs, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
