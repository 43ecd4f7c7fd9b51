"""Which concurrency the running process has: real threads, or gevent's greenlets.

gunicorn's gevent worker monkey-patches the standard library before it loads the app; the app then
has to run Flask-SocketIO in gevent mode, or its queues and events would block the one OS thread.
Every other command runs with real threads.
"""

from __future__ import annotations

import sys

__all__ = ["socketio_async_mode"]


def socketio_async_mode() -> str:
    """``gevent`` when the standard library is monkey-patched by gevent, else ``threading``."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("socket"):
        return "gevent"
    return "threading"
