"""Live map: pushed level deltas recolour layers in the browser; clicks drill into a district."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from dash import ClientsideFunction, Dash, Input, Output, html
from dash import ctx as dash_ctx

from domain.catalog import t
from layouts import ids
from runtime.context import AppContext

__all__ = ["register", "selection_for"]


def selection_for(app_ctx: AppContext, code: str | None) -> dict[str, Any]:
    """Return the map selection for a clicked unit: its district, bounds and breadcrumb."""
    h = app_ctx.hierarchy
    district = h.district_of(code) if code and code in h else None
    target = district or h.city.code
    return {
        "district": district,
        "bounds": list(h.bounds(target)),
        "crumbs": [h.city.name] + ([h.get(district).name] if district else []),
    }


def register(app: Dash, app_ctx: AppContext) -> None:
    """Wire the map panel."""
    lang = app_ctx.settings.language

    app.clientside_callback(
        ClientsideFunction("gw", "onLevels"),
        Output(ids.LEVELS_SINK, "data"),
        Input(ids.SOCKET, "data-levels"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.SELECTION, "data"),
        Input(ids.LAYER_STREET, "clickData"),
        Input(ids.BREADCRUMB_CITY, "n_clicks"),
        Input(ids.LOCATION, "search"),
    )
    def select(click: dict[str, Any] | None, _city: int | None, search: str | None) -> dict[str, Any]:
        """Select the district of a clicked street, the whole city, or ?district=CODE."""
        trigger = dash_ctx.triggered_id
        if trigger == ids.LAYER_STREET and click:
            return selection_for(app_ctx, str(click.get("properties", {}).get("code", "")))
        if trigger == ids.BREADCRUMB_CITY:
            return selection_for(app_ctx, None)
        wanted = parse_qs((search or "").lstrip("?")).get("district", [None])[0]
        return selection_for(app_ctx, wanted)

    app.clientside_callback(
        ClientsideFunction("gw", "onSelection"),
        Output(ids.LAYER_GRID, "url"),
        Input(ids.SELECTION, "data"),
    )

    @app.callback(Output(ids.BREADCRUMB, "children"), Input(ids.SELECTION, "data"), prevent_initial_call=True)
    def breadcrumb(selection: dict[str, Any] | None) -> list[Any]:
        """Show where the map is: city › district."""
        crumbs = (selection or {}).get("crumbs") or []
        children: list[Any] = [
            html.Button(t("map.breadcrumb.city", lang), id=ids.BREADCRUMB_CITY, className="gw-crumb")
        ]
        for name in crumbs[1:]:
            children += [html.Span("›", className="gw-crumb-sep"), html.Span(str(name), className="gw-crumb-current")]
        return children
