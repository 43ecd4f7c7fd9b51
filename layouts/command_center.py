"""The command-center page: header, KPI strip, map in the middle, alerts on the side."""

from __future__ import annotations

from dash import dcc, html
from dash_socketio import DashSocketIO

from domain.catalog import t
from layouts import ids
from layouts.alerts import alert_list
from layouts.kpis import kpi_strip
from layouts.legend import map_legend
from layouts.map import city_map

__all__ = ["command_center"]


def command_center(
    lang: str,
    *,
    home_name: str,
    bounds: tuple[float, float, float, float],
    window_minutes: int,
    user_label: str,
    first_selection: dict[str, object],
    tile_url: str | None = None,
) -> html.Div:
    """Build the whole page for a user whose jurisdiction is the unit ``home_name``."""
    header = html.Header(
        [
            html.H1([t("app.title", lang), html.Span(f" · {home_name}", className="gw-city")]),
            html.Nav(
                [html.Button(home_name, id=ids.BREADCRUMB_CITY, className="gw-crumb")],
                id=ids.BREADCRUMB,
                className="gw-breadcrumb",
            ),
            html.Div(t("status.connecting", lang), id=ids.STATUS, className="gw-status gw-status-stale"),
            html.Span(user_label, className="gw-user"),
            html.Form(
                html.Button(t("nav.logout", lang), type="submit"),
                action="/logout",
                method="POST",
                className="gw-logout",
            ),
        ],
        className="gw-header",
    )
    body = html.Main(
        [
            kpi_strip(lang),
            html.Section(
                [
                    city_map(bounds, tile_url),
                    map_legend(lang, window_minutes),
                    html.Div(t("map.hint", lang), className="gw-map-hint"),
                ],
                className="gw-map-panel",
            ),
            alert_list(lang),
        ],
        className="gw-body",
    )
    return html.Div(
        [
            dcc.Location(id=ids.LOCATION, refresh=False),
            dcc.Store(id=ids.SELECTION, data=first_selection),
            dcc.Store(id=ids.LEVELS_SINK),
            dcc.Interval(id=ids.STATUS_TICK, interval=1000),  # re-judges staleness; no server round trip
            # Status texts travel as data so the browser code carries no user-facing strings.
            dcc.Store(id=ids.STATUS_TEXT_LIVE, data=t("status.live", lang)),
            dcc.Store(id=ids.STATUS_TEXT_STALE, data=t("status.stale", lang, since="{since}")),
            DashSocketIO(id=ids.SOCKET, eventNames=["levels", "kpis"]),
            header,
            body,
        ],
        id=ids.ROOT,
        className="gw-root gw-dark",
        lang="zh-CN" if lang != "en" else "en",
    )
