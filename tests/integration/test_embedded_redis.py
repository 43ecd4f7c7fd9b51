from __future__ import annotations

from pathlib import Path

import pytest
import redis

from runtime.embedded_redis import EmbeddedRedis, EmbeddedRedisError


def test_starts_with_aof_on_a_unix_socket_and_stops(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "r")
    url = server.start()
    client = redis.Redis.from_url(url)
    info = client.info("server")
    assert info["redis_version"].startswith("6.2")
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert client.config_get("port") == {"port": "0"}  # no TCP port at all
    client.xadd("s", {"a": "1"})
    pid = server.pid
    server.stop()
    assert pid is not None
    with pytest.raises(redis.ConnectionError):
        client.ping()


def test_data_survives_a_crash_through_the_aof(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "r")
    client = redis.Redis.from_url(server.start())
    for i in range(100):
        client.xadd("s", {"i": str(i)})
    client.execute_command("BGREWRITEAOF")  # make sure the AOF is on disk before the crash
    import time

    deadline = time.monotonic() + 5
    while client.info("persistence")["aof_rewrite_in_progress"] and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()
    client = redis.Redis.from_url(server.start())
    assert client.xlen("s") == 100
    server.stop()


def test_long_data_dirs_get_a_short_socket_path(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    server = EmbeddedRedis(deep)
    with server:
        assert len(server.socket_path) < 100
        assert redis.Redis.from_url(server.url).ping()
        server.kill()
        server.start()  # a restart listens on the same path
        assert redis.Redis.from_url(server.url).ping()
    assert not Path(server.socket_path).parent.exists()  # nothing left behind in /tmp


def test_a_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path, executable="/nonexistent/redis-server")
    with pytest.raises((EmbeddedRedisError, FileNotFoundError)):
        server.start(timeout=1)


def test_a_second_owner_of_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path / "r"), pytest.raises(EmbeddedRedisError, match="in use by pid"):
        EmbeddedRedis(tmp_path / "r").start()
    with EmbeddedRedis(tmp_path / "r") as again:  # released on stop
        assert redis.Redis.from_url(again.url).ping()


def test_redis_goes_when_its_owner_is_killed(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    import psutil

    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from runtime.embedded_redis import EmbeddedRedis; s = EmbeddedRedis(Path(sys.argv[1])); s.start(); "
            "print(s.pid, flush=True); time.sleep(60)",
            str(tmp_path / "r"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    redis_pid = int(owner.stdout.readline())
    owner.kill()  # SIGKILL: no clean-up code of ours runs
    owner.wait()
    deadline = time.monotonic() + 10
    while psutil.pid_exists(redis_pid) and psutil.Process(redis_pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "redis-server outlived its owner"
        time.sleep(0.05)
