"""The web process's gunicorn settings and the gevent switch, checked without starting a server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.concurrency import socketio_async_mode
from runtime.web_server import gunicorn_options
from settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_gthread_sizes_threads_and_connections_from_the_setting() -> None:
    options = gunicorn_options(Settings(web_threads=1500))
    assert (options["worker_class"], options["threads"], options["workers"]) == ("gthread", 1500, 1)
    assert options["worker_connections"] == 1600
    assert options["control_socket_disable"] is True


def test_gevent_has_no_thread_pool() -> None:
    options = gunicorn_options(Settings(web_worker="gevent"))
    assert options["worker_class"] == "gevent"
    assert "threads" not in options
    assert options["worker_connections"] == 1000


def test_an_unpatched_process_runs_socketio_in_threading_mode() -> None:
    assert socketio_async_mode() == "threading"


def _probe(argv: list[str], worker: str) -> str:
    """In a fresh interpreter: call the early patch as app.py does, then ask which Socket.IO mode follows."""
    code = (
        "import sys; from runtime.gevent_patch import patch_if_gevent_web; "
        f"patched = patch_if_gevent_web({argv!r}); "
        "from runtime.concurrency import socketio_async_mode; "
        "import socket, gevent.socket; "
        "print(patched, socketio_async_mode(), socket.socket is gevent.socket.socket)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWATCH_")} | {"GRIDWATCH_WEB_WORKER": worker}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("argv", "worker", "expected"),
    [
        (["web"], "gevent", "True gevent True"),
        (["web"], "gthread", "False threading False"),
        (["serve"], "gevent", "False threading False"),  # only gunicorn's gevent worker serves greenlets
        ([], "gevent", "False threading False"),
    ],
)
def test_only_the_gevent_web_command_is_patched(argv: list[str], worker: str, expected: str) -> None:
    assert _probe(argv, worker) == expected
