"""KPI strip: pushed KPI snapshots go straight into the cards, in the browser."""

from __future__ import annotations

from dash import ALL, ClientsideFunction, Dash, Input, Output

from layouts import ids
from runtime.context import AppContext

__all__ = ["register"]


def register(app: Dash, app_ctx: AppContext) -> None:
    """Wire the KPI strip."""
    del app_ctx
    app.clientside_callback(
        ClientsideFunction("gw", "onKpis"),
        Output({"type": ids.KPI_VALUE, "key": ALL}, "children"),
        Input(ids.SOCKET, "data-kpis"),
        prevent_initial_call=True,
    )
