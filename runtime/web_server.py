"""One production web process: gunicorn with one gthread worker.

One worker, because a Socket.IO client must reach the process that accepted it and gunicorn's
own balancing is not sticky: more capacity is more of these processes behind nginx ``ip_hash``.
gthread by default, because the app runs Flask-SocketIO in threading mode with simple-websocket,
which takes the raw socket from gunicorn; every open WebSocket holds one of the worker's threads
for its life, so ``threads`` bounds the sockets of one process. ``GRIDWATCH_WEB_WORKER=gevent``
runs gunicorn's gevent worker instead (Flask-SocketIO then runs in gevent mode, see
``runtime.concurrency``): a socket costs a greenlet, not three OS threads, and a push to a
thousand screens is a thousand sends in one thread instead of a thousand thread wake-ups.
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from flask import Flask
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from settings import Settings

__all__ = ["WebProcess", "gunicorn_options", "serve_with_gunicorn"]


class WebProcess(Protocol):
    """What gunicorn needs of the app: the server, background work to start, and a close."""

    server: Flask

    def start_background(self) -> None:
        """Start the push bridge and the socket sweeper."""

    def close(self) -> None:
        """Stop background work and release clients."""


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """The gunicorn settings of one web process."""
    threads = {"threads": settings.web_threads} if settings.web_worker == "gthread" else {}
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": 1,
        "worker_class": settings.web_worker,
        **threads,
        # Every open WebSocket is a connection as well as a thread: gunicorn's default cap of 1,000
        # connections would stop accepting at 1,000 screens and leave no room for keep-alive.
        "worker_connections": max(1000, settings.web_threads + 100),
        "graceful_timeout": 10,  # open WebSockets never finish by themselves: do not wait long for them
        "keepalive": 5,
        "proc_name": f"gridwatch-web-{settings.port}",
        # gunicorn's control socket has one path per user ($HOME/.gunicorn/gunicorn.ctl): the web processes
        # of `prod` would take it from each other, and nothing of Gridwatch's uses it.
        "control_socket_disable": True,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": settings.log_level.lower(),
    }


class _Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn ships no annotations
    def __init__(self, build: Callable[[], WebProcess], options: Mapping[str, Any]) -> None:
        self._build = build
        self._options = dict(options)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        # Runs in the worker, after the fork: the bridge's threads and Redis connections belong to it.
        app = self._build()
        app.start_background()
        atexit.register(app.close)
        gc.freeze()  # what start-up built lives as long as the process (see Gridwatch.serve)
        return app.server


def serve_with_gunicorn(settings: Settings, create_app: Callable[[Settings], WebProcess]) -> None:
    """Serve one web process under gunicorn until it is told to stop (SIGTERM, SIGINT)."""
    print(f"Gridwatch web process: http://{settings.host}:{settings.port}/", flush=True)
    _Gunicorn(lambda: create_app(settings), gunicorn_options(settings)).run()
