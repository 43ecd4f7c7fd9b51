"""The command-center page: header, KPI strip, map in the middle, the live alert ticker on the side."""

from __future__ import annotations

from collections.abc import Sequence

from dash import dcc, html
from dash_socketio import DashSocketIO

from domain.catalog import t
from layouts import ids
from layouts.alerts import alert_plumbing, alert_queue
from layouts.header import page_header, status_plumbing
from layouts.kpis import kpi_strip
from layouts.legend import map_legend
from layouts.map import city_map

__all__ = ["STALE_AFTER_MS", "command_center"]

STALE_AFTER_MS = 5000  # KPIs come every aggregator tick: older data means the feed has stopped


def command_center(
    lang: str,
    *,
    home_name: str,
    bounds: tuple[float, float, float, float],
    window_minutes: int,
    user_label: str,
    first_selection: dict[str, object],
    may_open: Sequence[str] = ("/",),
    tile_url: str | None = None,
) -> html.Div:
    """Build the whole page for a user whose jurisdiction is the unit ``home_name``."""
    header = page_header(
        lang,
        home_name=home_name,
        user_label=user_label,
        breadcrumb=[html.Button(home_name, id=ids.BREADCRUMB_CITY, className="gw-crumb")],
        current="/",
        may_open=may_open,
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
            alert_queue(lang, title_key="alerts.ticker"),
        ],
        className="gw-body",
    )
    return html.Div(
        [
            dcc.Location(id=ids.LOCATION, refresh=False),
            dcc.Store(id=ids.SELECTION, data=first_selection),
            dcc.Store(id=ids.LEVELS_SINK),
            *status_plumbing(lang, STALE_AFTER_MS),
            *alert_plumbing(lang),
            DashSocketIO(id=ids.SOCKET, eventNames=["levels", "kpis", "alerts"]),
            header,
            body,
        ],
        id=ids.ROOT,
        className="gw-root gw-dark",
        lang="zh-CN" if lang != "en" else "en",
    )
