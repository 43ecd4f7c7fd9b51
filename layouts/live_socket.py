"""The page's one Socket.IO connection, paced to come back quickly after an outage."""

from __future__ import annotations

from dash_socketio import DashSocketIO

from layouts import ids

__all__ = ["RECONNECT", "live_socket"]

# Socket.IO's default backoff grows to 5 s (±50 %): a wall screen would sit stale up to 7.5 s after
# its server is back. Tries every 0.5–2 s instead; the jitter (randomizationFactor 0.5, the default)
# still spreads a room full of screens reconnecting to a restarted process.
RECONNECT: dict[str, object] = {"reconnectionDelay": 500, "reconnectionDelayMax": 2000}


def live_socket(event_names: list[str]) -> DashSocketIO:
    """The page's socket, listening to ``event_names`` (the server picks the rooms, never the page)."""
    return DashSocketIO(id=ids.SOCKET, eventNames=event_names, options=RECONNECT)
