"""The alert queue (duty desk and command-center ticker): pushes and resyncs fill it in the browser."""

from __future__ import annotations

from dash import ClientsideFunction, Dash, Input, Output

from layouts import ids
from runtime.context import AppContext

__all__ = ["register"]


def register(app: Dash, app_ctx: AppContext) -> None:
    """Wire the queue to the page's texts (mount, first resync) and to the socket's "alerts" pushes."""
    del app_ctx
    app.clientside_callback(
        ClientsideFunction("gw_alerts", "onMount"),
        Output(ids.ALERT_SINK, "data"),
        Input(ids.ALERT_TEXTS, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("gw_alerts", "onPush"),
        Output(ids.ALERT_SINK, "data", allow_duplicate=True),
        Input(ids.SOCKET, "data-alerts"),
        prevent_initial_call=True,
    )
