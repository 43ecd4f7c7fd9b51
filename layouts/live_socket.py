"""The page's one Socket.IO connection (one builder for the four pages that push)."""

from __future__ import annotations

from dash_socketio import DashSocketIO

from layouts import ids

__all__ = ["live_socket"]

# No `options` here: the component re-creates its socket whenever that prop changes identity, and a
# prop from the layout is a new object at every re-render. assets/gw_map.js gives the socket one
# frozen options object (the reconnect pacing: 0.5 s, growing to 2 s).


def live_socket(event_names: list[str]) -> DashSocketIO:
    """The page's socket, listening to ``event_names`` (the server picks the rooms, never the page)."""
    return DashSocketIO(id=ids.SOCKET, eventNames=event_names)
