"""The wall screen: the command center in large type with trend charts, a stale banner and rotation.

The map, KPIs, ticker and reconnection are the command center's (live_map, kpi_strip,
alert_queue, connection); this module adds what a screen nobody touches needs: it steps
through the districts on a timer when asked (?rotate=SECONDS) and refreshes its charts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import ClientsideFunction, Dash, Input, Output
from dash.development.base_component import Component

from callbacks.live_map import command_center_for, selection_for
from domain.catalog import t
from domain.permissions import Action, Principal
from figures.leader_charts import CHARTS
from layouts import ids
from layouts.command_center import wall_chart_boxes
from runtime.context import AppContext
from security.guards import current_principal

__all__ = ["WALL_CHART_KEYS", "page_for", "register"]

WALL_CHART_KEYS: tuple[str, ...] = ("alerts_by_type", "case_volume", "on_time_rate", "visitor_flows")
CHART_DAYS = 7


def page_for(
    app_ctx: AppContext, principal: Principal, *, home_name: str, user_label: str, may_open: Sequence[str]
) -> Component:
    """Build the wall screen for a user (their own unit, like the command center)."""
    return command_center_for(
        app_ctx,
        principal,
        home_name=home_name,
        user_label=user_label,
        may_open=may_open,
        wall_charts=_titled(app_ctx.lang()),
    )


def _titled(lang: str) -> list[tuple[str, str]]:
    """(key, title) of the strip's charts."""
    titles = {c.key: t(c.title_key, lang) for c in CHARTS}
    return [(key, titles[key]) for key in WALL_CHART_KEYS]


def register(app: Dash, app_ctx: AppContext) -> None:
    """Wire rotation, the chart strip and the stale banner."""
    guard = app_ctx.guard
    h = app_ctx.hierarchy

    app.clientside_callback(
        ClientsideFunction("gw_wall", "rotation"),
        Output(ids.WALL_ROTATE, "interval"),
        Output(ids.WALL_ROTATE, "disabled"),
        Input(ids.LOCATION, "search"),
    )
    app.clientside_callback(
        ClientsideFunction("gw_wall", "banner"),
        Output(ids.STALE_BANNER, "children"),
        Output(ids.STALE_BANNER, "hidden"),
        Input(ids.STATUS, "className"),
        Input(ids.STATUS, "children"),
    )

    @guard.callback(
        app,
        Output(ids.SELECTION, "data", allow_duplicate=True),
        Output(ids.WALL_ROTATION, "children"),
        Input(ids.WALL_ROTATE, "n_intervals"),
        action=Action.VIEW_MAP,
        prevent_initial_call=True,
    )
    def rotate(n: int | None) -> tuple[dict[str, Any], str]:
        """Show the next unit under the user's own (for the city: the next district), then home again."""
        lang = app_ctx.lang()
        principal = current_principal()
        assert principal is not None  # the guard let us in
        stops = [principal.unit_code, *(u.code for u in h.children(principal.unit_code))]
        code = stops[(n or 0) % len(stops)]
        selection = selection_for(app_ctx, principal, code)
        return selection, t("wall.rotating", lang, name=h.get(code).name)

    # The strip waits for the map's first view (its graphs load Plotly, a long parse that held
    # the map up); then the tick refreshes it.
    app.clientside_callback(
        ClientsideFunction("gw_wall", "afterMap"),
        Output(ids.WALL_CHARTS, "data-tick"),
        Input(ids.WALL_CHART_TICK, "n_intervals"),
    )

    @guard.callback(
        app,
        Output(ids.WALL_CHARTS, "children"),
        Input(ids.WALL_CHARTS, "data-tick"),
        action=Action.VIEW_KPIS,
        prevent_initial_call=True,
    )
    def charts(_tick: int | None) -> list[Component]:
        """The strip's trend charts for the user's own unit."""
        lang = app_ctx.lang()
        principal = current_principal()
        assert principal is not None
        code = principal.unit_code
        figures = [
            app_ctx.charts.figure(key, code, days=CHART_DAYS, lang=lang, theme="dark") for key in WALL_CHART_KEYS
        ]
        return wall_chart_boxes(_titled(lang), figures)
