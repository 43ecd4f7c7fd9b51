"""`app.py deadletter list|replay|purge` against a real worker process and a real Redis."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from app import main
from geo.hierarchy import Hierarchy, Level
from runtime.bootstrap import ensure_demo_city, open_database
from runtime.embedded_redis import EmbeddedRedis
from settings import Settings
from streams.ingest import append_events
from streams.keys import RedisKeys
from tests.integration.events import gate_event, inside
from tests.integration.stream_state import applied, caught_up, dead_letters, grid_counts, minute_now, wait_until
from tests.processes import ROOT, small_city_env, start, stop


@dataclass
class Site:
    env: dict[str, str]
    city: Hierarchy
    log: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, redis_server: EmbeddedRedis) -> Site:
    data_dir = tmp_path_factory.mktemp("deadletter") / "var"
    env = small_city_env(
        data_dir,
        GRIDWATCH_REDIS_URL=redis_server.url,
        GRIDWATCH_WORKER_CLAIM_IDLE_MS="200",
        GRIDWATCH_MAX_DELIVERIES="2",
    )
    engine = open_database(Settings.from_env(env))
    city = ensure_demo_city(engine, Settings.from_env(env))
    engine.dispose()
    return Site(env, city, data_dir.parent / "worker.log")


@pytest.fixture
def worker(site: Site, redis_client: redis.Redis) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """A real `app.py worker`; the caller prepares the stream first (the client flushed Redis)."""
    procs: list[subprocess.Popen[bytes]] = []

    def launch() -> subprocess.Popen[bytes]:
        procs.append(start(["worker", "--name", "dl-worker"], site.env, site.log))
        return procs[-1]

    yield launch
    for proc in procs:
        stop(proc)


def cli(site: Site, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run `python app.py ARGS` as an operator would, keeping stdout as bytes."""
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args], env=site.env, cwd=ROOT, capture_output=True, check=False
    )


def cli_here(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """The same command line in this process (a subprocess costs seconds of imports)."""
    for name, value in site.env.items():
        if name.startswith("GRIDWATCH_"):
            monkeypatch.setenv(name, value)
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def poison(client: redis.Redis, keys: RedisKeys, raws: list[str]) -> list[bytes]:
    """Append good events that a crashing consumer already took twice: the worker dead-letters them."""
    client.xgroup_create(keys.ingest_stream, keys.worker_group, id="0", mkstream=True)
    ids = append_events(client, keys.ingest_stream, raws)
    client.xreadgroup(keys.worker_group, "crashy", {keys.ingest_stream: ">"}, count=len(ids))
    client.xclaim(keys.ingest_stream, keys.worker_group, "crashy", 0, ids)
    return ids


def test_list_shows_reasons_safely_and_replay_lands_fixed_entries_once(
    site: Site,
    redis_client: redis.Redis,
    keys: RedisKeys,
    worker: Callable[[], subprocess.Popen[bytes]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    since = minute_now()
    grid_a, grid_b = site.city.at_level(Level.GRID)[7], site.city.at_level(Level.GRID)[8]
    twice = uuid.uuid4()
    good = [gate_event(*inside(grid_a)), gate_event(*inside(grid_b)), gate_event(*inside(grid_b), event_id=twice)]
    good.append(gate_event(*inside(grid_b), event_id=twice))  # a producer's retry: the same event again
    poison(redis_client, keys, good)
    hostile = [b"{oops \x1b[31mred\x1b[0m \xff", b'{"event_id": 1}', gate_event(0.0, 0.0).encode()]
    append_events(redis_client, keys.ingest_stream, hostile)
    redis_client.xadd(keys.ingest_stream, {"wrong_field": "x"})  # no data field: nothing to replay
    worker()
    wait_until(lambda: redis_client.xlen(keys.dead_letter_stream) == 8 and caught_up(redis_client, keys), 60, "8")
    assert grid_counts(redis_client, keys, since) == {}

    listing = cli(site, "deadletter", "list")
    assert listing.returncode == 0, listing.stderr
    out = listing.stdout.decode("utf-8")
    for reason in ("processing_error", "not_json", "schema", "unplaceable"):
        assert reason in out
    assert b"\x1b" not in listing.stdout and "\\x1b[31mred" in out and "\\xff" in out  # escaped, not obeyed
    assert "8 shown" in listing.stderr.decode()

    status, out, _ = cli_here(site, monkeypatch, capsys, "deadletter", "list", "--reason", "not_json", "--json")
    [letter] = [json.loads(line) for line in out.splitlines()]
    assert base64.b64decode(letter["raw_base64"]) == hostile[0] and letter["reason"] == "not_json"
    assert "\x1b" not in out

    status, out, _ = cli_here(site, monkeypatch, capsys, "deadletter", "replay", "--all", "--dry-run")
    assert status == 0 and "dry run: 7 would be replayed, 1 have no raw bytes" in out
    assert redis_client.xlen(keys.dead_letter_stream) == 8

    done = cli(site, "deadletter", "replay", "--reason", "processing_error")
    assert done.returncode == 0, done.stderr
    assert b"replayed 4 dead letter(s)" in done.stdout
    wait_until(lambda: caught_up(redis_client, keys) and applied(redis_client, keys) == 3, 30, "the replayed events")
    assert grid_counts(redis_client, keys, since) == {grid_a.code: 1, grid_b.code: 2}  # the retry counted once
    assert redis_client.xlen(keys.dead_letter_stream) == 4

    # The same event dead-lettered again later (say by a second worker) and replayed again: no effect.
    again = redis_client.xadd(
        keys.dead_letter_stream,
        {"entry_id": "1-1", "reason": "processing_error", "detail": "copy", "raw": good[0]},
    ).decode()
    status, out, _ = cli_here(site, monkeypatch, capsys, "deadletter", "replay", "--id", again, "9-9")
    assert status == 1 and "replayed 1 dead letter(s)" in out and "1 not found" in out
    wait_until(lambda: caught_up(redis_client, keys), 30, "the second replay")
    assert grid_counts(redis_client, keys, since) == {grid_a.code: 1, grid_b.code: 2}
    assert applied(redis_client, keys) == 3

    # Replaying what is still broken dead-letters it again; the letter without bytes is kept.
    status, out, err = cli_here(site, monkeypatch, capsys, "deadletter", "replay", "--all")
    assert status == 0 and "replayed 3 dead letter(s)" in out and "1 without raw bytes kept" in out
    assert "no raw bytes" in err
    wait_until(lambda: caught_up(redis_client, keys) and redis_client.xlen(keys.dead_letter_stream) == 4, 30, "4")
    reasons = sorted(f[b"reason"].decode() for _, f in redis_client.xrange(keys.dead_letter_stream))
    assert reasons == ["not_json", "schema", "schema", "unplaceable"]
    assert {v["raw"] for v in dead_letters(redis_client, keys).values()} == {*hostile, b""}

    status, out, _ = cli_here(site, monkeypatch, capsys, "deadletter", "purge", "--older-than", "1h", "--dry-run")
    assert status == 0 and "dry run: 0 dead letter(s)" in out
    status, out, _ = cli_here(site, monkeypatch, capsys, "deadletter", "purge", "--older-than", "0s")
    assert status == 0 and "purged 4 dead letter(s)" in out and redis_client.xlen(keys.dead_letter_stream) == 0


def test_replay_wants_a_selection(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = cli_here(site, monkeypatch, capsys, "deadletter", "replay")
    assert status == 2 and "--all" in err
