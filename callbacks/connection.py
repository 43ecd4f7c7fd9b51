"""Connection status: live, or 'stale since …' when the socket is down or data stops; resync on reconnect."""

from __future__ import annotations

from dash import ClientsideFunction, Dash, Input, Output, State

from layouts import ids
from runtime.context import AppContext

__all__ = ["register"]


def register(app: Dash, app_ctx: AppContext) -> None:
    """Wire the status badge to the socket's connected flag."""
    del app_ctx
    app.clientside_callback(
        ClientsideFunction("gw", "onStatus"),
        Output(ids.STATUS, "children"),
        Output(ids.STATUS, "className"),
        Input(ids.SOCKET, "connected"),
        Input(ids.STATUS_TICK, "n_intervals"),
        State(ids.STATUS_TEXT_LIVE, "data"),
        State(ids.STATUS_TEXT_STALE, "data"),
        State(ids.STATUS_FRESH_MS, "data"),
        State(ids.SOCKET, "socketId"),
    )
