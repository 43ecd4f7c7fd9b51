"""The page's one Socket.IO connection (one builder for the four pages that push)."""

from __future__ import annotations

from dash_socketio import DashSocketIO

from layouts import ids

__all__ = ["live_socket"]

# Socket.IO's default reconnect back-off (up to 5 s ±50 %) stays: passing `options` to DashSocketIO
# (e.g. a shorter reconnectionDelayMax) made the duty desk miss pushes (tests/browser/test_duty.py,
# two desks); the component re-creates its socket when that prop changes identity. Not solved yet.


def live_socket(event_names: list[str]) -> DashSocketIO:
    """The page's socket, listening to ``event_names`` (the server picks the rooms, never the page)."""
    return DashSocketIO(id=ids.SOCKET, eventNames=event_names)
