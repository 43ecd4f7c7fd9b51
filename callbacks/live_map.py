"""Live map: pushed level deltas recolour layers in the browser; clicks drill into a district."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from dash import ClientsideFunction, Dash, Input, Output, html
from dash import ctx as dash_ctx

from domain.permissions import Action, Principal
from geo.hierarchy import Level
from layouts import ids
from runtime.context import AppContext
from security.guards import current_principal

__all__ = ["register", "selection_for"]


def selection_for(app_ctx: AppContext, principal: Principal, code: str | None) -> dict[str, Any]:
    """Return what the map shows for a click on ``code`` (None: the user's home view).

    A city-level user sees streets at city zoom and a district's grids after a click; anyone
    bound lower down always sees the grids of their own unit.
    """
    h = app_ctx.hierarchy
    home = h.get(principal.unit_code)
    if home.level is Level.CITY:
        shown = h.district_of(code) if code and code in h and code != home.code else None
    else:
        shown = home.code
    path = [home.code] + ([shown] if shown and shown != home.code else [])
    return {
        "unit": shown,
        "bounds": list(h.bounds(shown or home.code)),
        "crumbs": [h.get(c).name for c in path],
    }


def _clicked(click: dict[str, Any] | None) -> str | None:
    props = (click or {}).get("properties") or {}
    code = props.get("code") if isinstance(props, dict) else None
    return str(code) if code is not None else None


def _asked(search: str | None) -> str | None:
    return parse_qs((search or "").lstrip("?")).get("district", [None])[0]


def register(app: Dash, app_ctx: AppContext) -> None:
    """Wire the map panel."""
    guard = app_ctx.guard

    app.clientside_callback(
        ClientsideFunction("gw", "onLevels"),
        Output(ids.LEVELS_SINK, "data"),
        Input(ids.SOCKET, "data-levels"),
        prevent_initial_call=True,
    )

    @guard.callback(
        app,
        Output(ids.SELECTION, "data"),
        Input(ids.LAYER_STREET, "clickData"),
        Input(ids.BREADCRUMB_CITY, "n_clicks"),
        Input(ids.LOCATION, "search"),
        action=Action.VIEW_MAP,
        scope=lambda click, _home, search: (_clicked(click), _asked(search)),
    )
    def select(click: dict[str, Any] | None, _home: int | None, search: str | None) -> dict[str, Any]:
        """Select the district of a clicked street, the home view, or ?district=CODE (in scope only)."""
        principal = current_principal()
        assert principal is not None  # the guard let us in
        trigger = dash_ctx.triggered_id
        if trigger == ids.LAYER_STREET:
            return selection_for(app_ctx, principal, _clicked(click))
        if trigger == ids.BREADCRUMB_CITY:
            return selection_for(app_ctx, principal, None)
        return selection_for(app_ctx, principal, _asked(search))

    app.clientside_callback(
        ClientsideFunction("gw", "onSelection"),
        Output(ids.LAYER_GRID, "url"),
        Input(ids.SELECTION, "data"),
    )

    @guard.callback(
        app,
        Output(ids.BREADCRUMB, "children"),
        Input(ids.SELECTION, "data"),
        action=Action.VIEW_MAP,
        scope=lambda selection: ((selection or {}).get("unit"),),
        prevent_initial_call=True,
    )
    def breadcrumb(selection: dict[str, Any] | None) -> list[Any]:
        """Show where the map is: home › district (names from the server, never from the browser)."""
        principal = current_principal()
        assert principal is not None
        fresh = selection_for(app_ctx, principal, (selection or {}).get("unit"))
        crumbs = fresh["crumbs"]
        children: list[Any] = [html.Button(crumbs[0], id=ids.BREADCRUMB_CITY, className="gw-crumb")]
        for name in crumbs[1:]:
            children += [html.Span("›", className="gw-crumb-sep"), html.Span(str(name), className="gw-crumb-current")]
        return children
