"""The leader's view: the side panel follows the map's selection, charts scoped to the selected unit.

The selection itself is the map's (callbacks/live_map.py): a click steps one level down, the
breadcrumb links step back up. Both callbacks here re-check that the selected unit lies in the
caller's jurisdiction on the server; the browser's selection is only a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import Dash, Input, Output
from dash.development.base_component import Component

from callbacks.live_map import selection_for
from domain.catalog import t
from domain.permissions import Action, Principal
from figures.leader_charts import CHARTS
from layouts import ids
from layouts.leader import kpi_cards, leader_view, unit_detail
from runtime.context import AppContext
from security.guards import current_principal

__all__ = ["page_for", "register"]

CHART_DAYS = 14


def page_for(
    app_ctx: AppContext, principal: Principal, *, home_name: str, user_label: str, may_open: Sequence[str]
) -> Component:
    """Build the leader's view for a user, starting at their own unit."""
    s = app_ctx.settings
    return leader_view(
        app_ctx.lang(),
        home_name=home_name,
        user_label=user_label,
        bounds=app_ctx.hierarchy.bounds(principal.unit_code),
        first_selection=selection_for(app_ctx, principal, None),
        window_minutes=s.window_minutes,
        charts=[(c.key, t(c.title_key, app_ctx.lang())) for c in CHARTS],
        may_open=may_open,
        tile_url=s.tile_url,
    )


def _focus(selection: dict[str, Any] | None) -> str | None:
    code = (selection or {}).get("focus")
    return code if isinstance(code, str) else None


def _asked(selection: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """Every unit code the browser's selection names: each must be in scope."""
    unit = (selection or {}).get("unit")
    return _focus(selection), unit if isinstance(unit, str) else None


def register(app: Dash, app_ctx: AppContext) -> None:
    """Wire the leader's side panel and charts."""
    guard = app_ctx.guard

    def unit_of(selection: dict[str, Any] | None) -> tuple[Principal, str]:
        principal = current_principal()
        assert principal is not None  # the guard let us in
        code = _focus(selection)
        return principal, code if code and code in app_ctx.hierarchy else principal.unit_code

    # Other pages share the map's selection but not the panel's timer: mirror the selection into a
    # store of this page, so the panel's inputs exist together (Dash refuses a callback half there).
    app.clientside_callback(
        "function (selection) { return selection; }",
        Output(ids.LEADER_SELECTION, "data"),
        Input(ids.SELECTION, "data"),
    )

    @guard.callback(
        app,
        Output(ids.UNIT_TITLE, "children"),
        Output(ids.KPIS, "children"),
        Output(ids.UNIT_DETAIL, "children"),
        Input(ids.LEADER_SELECTION, "data"),
        Input(ids.LEADER_TICK, "n_intervals"),
        action=Action.VIEW_KPIS,
        scope=lambda selection, _tick: _asked(selection),
    )
    def panel(selection: dict[str, Any] | None, _tick: int | None) -> tuple[str, list[Any], list[Any]]:
        """The selected unit's name, figures and (for a grid) its people, devices, cases and alerts."""
        lang = app_ctx.lang()
        principal, code = unit_of(selection)
        s = app_ctx.units.summary(principal, code, lang)
        title = f"{t('level.' + s.level.name.lower(), lang)} · {s.name}"
        detail: list[Any] = []
        if s.grid is not None:
            g = s.grid
            detail = unit_detail(
                lang,
                workers=g.workers,
                devices=[(d.device_id, d.device_type, d.online) for d in g.devices],
                cases=g.cases,
                cases_total=g.cases_total,
                alerts=g.alerts,
                alerts_total=g.alerts_total,
            )
        return title, kpi_cards(lang, s.kpis), detail

    @guard.callback(
        app,
        [Output(ids.chart_id(c.key), "figure") for c in CHARTS],
        Input(ids.SELECTION, "data"),
        action=Action.VIEW_KPIS,
        scope=_asked,
    )
    def charts(selection: dict[str, Any] | None) -> list[Any]:
        """The ten trend charts of the selected unit and its children."""
        lang = app_ctx.lang()
        _, code = unit_of(selection)
        return [app_ctx.charts.figure(c.key, code, days=CHART_DAYS, lang=lang, theme="dark") for c in CHARTS]
