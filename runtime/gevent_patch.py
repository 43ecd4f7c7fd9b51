"""Monkey-patch for gunicorn's gevent worker before anything else is imported.

gevent must replace the standard library's sockets, threads and ssl before other modules bind
them; gunicorn's worker patches only after the fork, by when app.py has imported Flask, redis and
urllib3 (gevent then warns that ssl was imported first). ``app.py web`` with
``GRIDWATCH_WEB_WORKER=gevent`` therefore patches here, first thing. This module imports only the
standard library and ``settings``.
"""

from __future__ import annotations

from collections.abc import Sequence

from settings import Settings, SettingsError

__all__ = ["patch_if_gevent_web"]


def patch_if_gevent_web(argv: Sequence[str]) -> bool:
    """Patch when the command is ``web`` and the gevent worker is asked for; return whether it did."""
    if not argv or argv[0] != "web":
        return False
    try:
        worker = Settings.from_env().web_worker
    except SettingsError:
        return False  # the command itself reports the bad setting
    if worker != "gevent":
        return False
    from gevent import monkey  # type: ignore[import-untyped]  # gevent ships no stubs

    monkey.patch_all()
    return True
