"""`app.py replay`: the real smoke-detector recording replayed as a registered device's feed."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine
from werkzeug.serving import make_server

from app import create_app, main
from domain.devices import Device, DeviceType
from domain.sensor_replay import replay_event_id
from geo.hierarchy import Hierarchy, Level
from geo.lookup import GridLocator
from runtime.alert_sink import AlertSink, load_rules
from runtime.bootstrap import ensure_demo_city, open_database
from runtime.embedded_redis import EmbeddedRedis
from security.device_signature import new_secret
from settings import Settings
from storage.alert_repository import AlertRepository
from storage.device_repository import DeviceRepository
from streams.keys import RedisKeys
from streams.worker import IngestWorker
from tests.integration.events import inside
from tests.integration.stream_state import grid_counts, minute_now, wait_until
from tests.processes import ROOT, free_port, small_city_env, start, stop
from tests.shared_data import shared_data

ALARM_ROW = 3178  # the recording's only rising edge of Fire Alarm (rows 0-3177 are 0, the rest 1)


@dataclass
class Site:
    env: dict[str, str]
    settings: Settings
    city: Hierarchy
    engine: Engine
    grid: str
    secret: str


@pytest.fixture(scope="module")
def recording() -> Path:
    return shared_data("iot", "smoke_detection_iot_first10080.csv")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, redis_server: EmbeddedRedis) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("replay") / "var"
    env = small_city_env(data_dir, GRIDWATCH_REDIS_URL=redis_server.url)
    settings = Settings.from_env(env)
    engine = open_database(settings)
    city = ensure_demo_city(engine, settings)
    grid = city.at_level(Level.GRID)[11]
    lon, lat = inside(grid)
    secret = new_secret()
    repo = DeviceRepository(engine)
    repo.register_many(
        [
            (Device("SMOKE-R1", DeviceType.SMOKE, lon, lat, grid.code), secret),
            (Device("GATE-R1", DeviceType.GATE, lon, lat, grid.code), new_secret()),
            (Device("SMOKE-OFF", DeviceType.SMOKE, lon, lat, grid.code), new_secret()),
        ]
    )
    repo.revoke("SMOKE-OFF")
    try:
        yield Site(env, settings, city, engine, grid.code, secret)
    finally:
        engine.dispose()


def drain(client: redis.Redis, site: Site, keys: RedisKeys) -> IngestWorker:
    """Process everything in the stream with a worker that also records alerts."""
    sink = AlertSink(AlertRepository(site.engine), load_rules(), site.city, client, keys)
    worker = IngestWorker(
        client, GridLocator(site.city.at_level(Level.GRID)), keys, consumer="replay-test", block_ms=20, sink=sink
    )
    worker.ensure_group()
    while worker.process_once().read:
        pass
    return worker


def stream_events(client: redis.Redis, keys: RedisKeys) -> list[tuple[int, dict[str, Any]]]:
    """(ms the stream took it, event) for every entry of the ingest stream."""
    rows: Any = client.xrange(keys.ingest_stream)
    return [(int(i.decode().split("-")[0]), json.loads(f[b"data"])) for i, f in rows]


def cli_here(site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    for name, value in site.env.items():
        if name.startswith("GRIDWATCH_"):
            monkeypatch.setenv(name, value)
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_the_recording_arrives_paced_on_the_devices_grid_and_a_rerun_counts_once(
    site: Site, recording: Path, redis_client: redis.Redis, keys: RedisKeys
) -> None:
    since = minute_now()
    argv = [sys.executable, str(ROOT / "app.py"), "replay", str(recording), "--device", "SMOKE-R1", "--limit", "300"]
    done = subprocess.run([*argv, "--speed", "100"], env=site.env, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "replayed 300 rows (300 sensor_reading)" in done.stdout
    events = stream_events(redis_client, keys)
    assert len(events) == 300
    with recording.open(newline="") as fh:
        rows = [r for _, r in zip(range(300), csv.DictReader(fh), strict=False)]
    stamps = [datetime.fromisoformat(e["ts"]).timestamp() for _, e in events]
    for n, ((taken_ms, event), row, ts) in enumerate(zip(events, rows, stamps, strict=True)):
        assert event["device_id"] == "SMOKE-R1" and event["device_type"] == "smoke"
        assert event["payload"] == {"kind": "sensor_reading", "value": float(row["PM2.5"]), "unit": "ug/m3"}
        assert event["event_id"] == str(replay_event_id("SMOKE-R1", n, "sensor_reading"))
        assert ts - stamps[0] == pytest.approx(n / 100, abs=1e-5)  # one recorded second is 10 ms at speed 100
        lateness = taken_ms / 1000 - ts  # when it reached the stream, against when it was due
        assert -0.02 < lateness < 0.5, (n, lateness)
    lateness_first = [t / 1000 - s for (t, _), s in zip(events[:50], stamps[:50], strict=True)]
    lateness_last = [t / 1000 - s for (t, _), s in zip(events[-50:], stamps[-50:], strict=True)]
    assert sorted(lateness_last)[25] - sorted(lateness_first)[25] < 0.1  # the pacing does not drift
    worker = drain(redis_client, site, keys)
    assert worker.totals.applied == 300 and worker.totals.dead == 0
    assert grid_counts(redis_client, keys, since) == {site.grid: 300}

    again = subprocess.run([*argv, "--speed", "0"], env=site.env, cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    worker = drain(redis_client, site, keys)
    assert worker.totals.duplicates == 300 and worker.totals.applied == 0
    assert grid_counts(redis_client, keys, since) == {site.grid: 300}


def test_the_fire_alarm_edge_becomes_one_smoke_alarm_and_an_alert(
    site: Site,
    recording: Path,
    redis_client: redis.Redis,
    keys: RedisKeys,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ("replay", str(recording), "--device", "SMOKE-R1", "--speed", "0")
    status, out, err = cli_here(site, monkeypatch, capsys, *args, "--skip", "3100", "--limit", "200")
    assert status == 0, err
    assert "replayed 200 rows (1 alarm, 200 sensor_reading)" in out
    alarms = [e for _, e in stream_events(redis_client, keys) if e["payload"]["kind"] == "alarm"]
    assert [(a["event_id"], a["payload"]["alarm"]) for a in alarms] == [
        (str(replay_event_id("SMOKE-R1", ALARM_ROW, "alarm")), "smoke")
    ]
    drain(redis_client, site, keys)
    [alert] = [a for a in AlertRepository(site.engine).open_alerts() if a.rule_key == "smoke_alarm"]
    assert alert.unit_code == site.grid and alert.count == 1

    # Started in the middle of the alarm: the skipped rows say it was on already, so no new edge.
    status, out, _ = cli_here(site, monkeypatch, capsys, *args, "--skip", "3300", "--limit", "20")
    assert status == 0 and "(20 sensor_reading)" in out


@pytest.mark.parametrize(
    ("device", "extra", "why"),
    [
        ("NOBODY", [], "no device 'NOBODY' is registered"),
        ("SMOKE-OFF", [], "is revoked"),
        ("GATE-R1", [], "a gate device cannot replay a recording"),
        ("SMOKE-R1", ["--url", "http://127.0.0.1:1"], "--url and --secret-file go together"),
        ("SMOKE-R1", ["--speed", "-1"], "must not be negative"),
    ],
)
def test_the_replay_refuses_what_it_cannot_send(
    site: Site,
    recording: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    device: str,
    extra: list[str],
    why: str,
) -> None:
    status, out, err = cli_here(site, monkeypatch, capsys, "replay", str(recording), "--device", device, *extra)
    assert status == 2 and why in err and "replayed" not in out


def test_a_recording_without_the_columns_is_refused(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "other.csv"
    path.write_text("UTC,Temperature[C]\n1654733331,20.0\n", encoding="utf-8")
    status, _, err = cli_here(site, monkeypatch, capsys, "replay", str(path), "--device", "SMOKE-R1")
    assert status == 2 and "missing column(s) PM2.5, Fire Alarm" in err


@pytest.fixture
def web(site: Site) -> Iterator[str]:
    """The real app served over HTTP on a free loopback port."""
    gw = create_app(site.settings)
    server = make_server("127.0.0.1", free_port(), gw.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        gw.close()


def test_over_http_the_device_signs_its_batches(
    site: Site,
    recording: Path,
    redis_client: redis.Redis,
    keys: RedisKeys,
    web: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    since = minute_now()
    secret_file = tmp_path / "smoke-r1.secret"
    secret_file.write_text(site.secret + "\n", encoding="utf-8")
    args = ("replay", str(recording), "--device", "SMOKE-R1", "--limit", "150", "--url", web)
    started = time.monotonic()
    status, out, err = cli_here(site, monkeypatch, capsys, *args, "--speed", "0", "--secret-file", str(secret_file))
    assert status == 0, err
    assert "the server accepted 150 and rejected 0" in out and time.monotonic() - started < 30
    assert len(stream_events(redis_client, keys)) == 150
    drain(redis_client, site, keys)
    assert grid_counts(redis_client, keys, since) == {site.grid: 150}

    secret_file.write_text(new_secret(), encoding="utf-8")
    status, _, err = cli_here(site, monkeypatch, capsys, *args, "--speed", "0", "--secret-file", str(secret_file))
    assert status == 1 and "HTTP 401 (bad_signature" in err
    assert len(stream_events(redis_client, keys)) == 150


def test_a_signal_stops_a_real_time_replay_and_it_says_so(
    site: Site, recording: Path, redis_client: redis.Redis, keys: RedisKeys, tmp_path: Path
) -> None:
    log = tmp_path / "replay.log"
    proc = start(["replay", str(recording), "--device", "SMOKE-R1", "--speed", "1"], site.env, log)
    try:
        wait_until(lambda: redis_client.xlen(keys.ingest_stream) >= 2, 60, lambda: log.read_text())
    finally:
        code = stop(proc, signal.SIGTERM, timeout=10, group=False)
    assert code == 0, log.read_text()
    assert "stopped early" in log.read_text()
    assert redis_client.xlen(keys.ingest_stream) < 20  # one row a second, as recorded
