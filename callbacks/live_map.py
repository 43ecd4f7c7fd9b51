"""Live map: pushed level deltas recolour layers in the browser; clicks drill down one level at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs

from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html
from dash import ctx as dash_ctx
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate

from domain.permissions import Action, Principal
from geo.hierarchy import Level
from layouts import ids
from layouts.command_center import command_center
from runtime.context import AppContext
from security.guards import current_principal

__all__ = ["command_center_for", "register", "selection_for"]


def _path(app_ctx: AppContext, home: str, code: str) -> list[str]:
    """Codes from ``home`` down to ``code`` (both included); [home] if code is not under home."""
    h = app_ctx.hierarchy
    if code == home or code not in h or home not in h.ancestors(code):
        return [home]
    up = list(h.ancestors(code))  # nearest first
    return [home, *reversed(up[: up.index(home)]), code]


def selection_for(
    app_ctx: AppContext, principal: Principal, code: str | None, *, focus: str | None = None
) -> dict[str, Any]:
    """Return what the map shows when ``code`` is asked for (None: the user's home view).

    ``focus`` is the unit selected before a click on the map: a click then steps one level down
    from it, towards the clicked unit (city → district → street → community → grid). Without
    it, ``code`` itself is selected. Grids are drawn for the district (or the user's own unit)
    containing the selection; the view fits the selection, which the map outlines.
    """
    h = app_ctx.hierarchy
    home = h.get(principal.unit_code)
    path = _path(app_ctx, home.code, code) if code else [home.code]
    if focus is not None and code:
        here = path.index(focus) if focus in path else 0
        path = path[: here + 2]
    selected = path[-1]
    # a city-level user sees the grids of the selected district; anyone lower, their own unit's
    shown = home.code if home.level is not Level.CITY else (h.district_of(selected) if selected != home.code else None)
    unit = h.get(selected)
    return {
        "unit": shown,
        "focus": selected,
        "level": unit.level.name.lower(),
        "bounds": list(h.bounds(selected)),
        "crumbs": [[c, h.get(c).name] for c in path],
    }


def command_center_for(
    app_ctx: AppContext,
    principal: Principal,
    *,
    home_name: str,
    user_label: str,
    may_open: Sequence[str],
    wall_charts: Sequence[tuple[str, str]] | None = None,
) -> Component:
    """Build the command center (or, with ``wall_charts``, the wall screen) for a user's own unit."""
    s = app_ctx.settings
    return command_center(
        app_ctx.lang(),
        home_name=home_name,
        bounds=app_ctx.hierarchy.bounds(principal.unit_code),
        window_minutes=s.window_minutes,
        user_label=user_label,
        first_selection=selection_for(app_ctx, principal, None),
        may_open=may_open,
        tile_url=s.tile_url,
        wall_charts=wall_charts,
    )


def _clicked(click: dict[str, Any] | None) -> str | None:
    props = (click or {}).get("properties") or {}
    code = props.get("code") if isinstance(props, dict) else None
    return str(code) if code is not None else None


def _asked(search: str | None) -> str | None:
    query = parse_qs((search or "").lstrip("?"))
    asked = query.get("unit") or query.get("district")
    return asked[0] if asked else None


def register(app: Dash, app_ctx: AppContext) -> None:
    """Wire the map panel."""
    guard = app_ctx.guard

    # Level deltas do not go through Dash: assets/gw_map.js takes them from the socket in order.
    @guard.callback(
        app,
        Output(ids.SELECTION, "data"),
        Input(ids.LAYER_STREET, "clickData"),
        Input(ids.LAYER_GRID, "n_clicks"),  # every click, even on the grid clicked last time
        Input(ids.BREADCRUMB_CITY, "n_clicks"),
        Input(ids.LOCATION, "search"),
        State(ids.LAYER_GRID, "clickData"),
        State(ids.SELECTION, "data"),
        action=Action.VIEW_MAP,
        scope=lambda street, _n, _home, search, grid, _sel: (_clicked(street), _clicked(grid), _asked(search)),
    )
    def select(
        street: dict[str, Any] | None,
        _grid_clicks: int | None,
        home_clicks: int | None,
        search: str | None,
        grid: dict[str, Any] | None,
        before: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """A click steps one level down towards the clicked unit; ?unit=CODE (or ?district=) selects it."""
        principal = current_principal()
        assert principal is not None  # the guard let us in
        trigger = dash_ctx.triggered_id
        focus = (before or {}).get("focus")
        focus = focus if isinstance(focus, str) else None
        if trigger == ids.LAYER_STREET:
            return selection_for(app_ctx, principal, _clicked(street), focus=focus)
        if trigger == ids.LAYER_GRID:
            return selection_for(app_ctx, principal, _clicked(grid), focus=focus)
        if trigger == ids.BREADCRUMB_CITY:
            if not home_clicks:
                # The breadcrumb is rebuilt on every selection, and Dash reports the new button as
                # an input that changed: that is no click. Taking it for one sent every selection
                # made elsewhere (the wall's rotation) straight back home.
                raise PreventUpdate
            return selection_for(app_ctx, principal, None)
        return selection_for(app_ctx, principal, _asked(search))

    app.clientside_callback(
        ClientsideFunction("gw", "onSelection"),
        Output(ids.LAYER_GRID, "url"),
        Input(ids.SELECTION, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("gw", "onFocus"),
        Output(ids.LAYER_FOCUS, "url"),
        Input(ids.SELECTION, "data"),
    )

    @guard.callback(
        app,
        Output(ids.BREADCRUMB, "children"),
        Input(ids.SELECTION, "data"),
        action=Action.VIEW_MAP,
        scope=lambda selection: ((selection or {}).get("unit"), (selection or {}).get("focus")),
        prevent_initial_call=True,
    )
    def breadcrumb(selection: dict[str, Any] | None) -> list[Any]:
        """Show where the map is: home › … › selection, each step a link back up (names from the server)."""
        principal = current_principal()
        assert principal is not None
        asked = (selection or {}).get("focus") or (selection or {}).get("unit")
        crumbs = selection_for(app_ctx, principal, asked if isinstance(asked, str) else None)["crumbs"]
        children: list[Any] = [html.Button(crumbs[0][1], id=ids.BREADCRUMB_CITY, className="gw-crumb")]
        for i, (code, name) in enumerate(crumbs[1:], start=2):
            children.append(html.Span("›", className="gw-crumb-sep"))
            if i == len(crumbs):
                children.append(html.Span(str(name), className="gw-crumb-current"))
            else:
                children.append(dcc.Link(str(name), href=f"?unit={code}", className="gw-crumb"))
        return children
