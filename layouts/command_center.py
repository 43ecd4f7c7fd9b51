"""The command-center page: header, KPI strip, map in the middle, the live alert ticker on the side."""

from __future__ import annotations

from collections.abc import Sequence

from dash import dcc, html
from dash.development.base_component import Component

from domain.catalog import t
from figures.theme import GRAPH_CONFIG
from layouts import ids
from layouts.alerts import alert_plumbing, alert_queue
from layouts.header import page_header, status_plumbing
from layouts.kpis import kpi_strip
from layouts.legend import map_legend
from layouts.live_socket import live_socket
from layouts.map import city_map

__all__ = ["STALE_AFTER_MS", "command_center", "wall_chart_boxes"]

STALE_AFTER_MS = 5000  # KPIs come every aggregator tick: older data means the feed has stopped
WALL_CHARTS_REFRESH_MS = 300_000  # trends move slowly; the map and ticker are live


def wall_chart_boxes(charts: Sequence[tuple[str, str]], figures: Sequence[object] | None = None) -> list[Component]:
    """Build the wall's strip of trend charts ((key, title) each), empty boxes until there are figures.

    The first page carries no graph: a graph loads Plotly (4.8 MB of script to parse), which held up
    the map's first render; the strip is filled once the map is drawn (callbacks/wall.py).
    """
    if figures is None:
        return [html.Div(className="gw-chart-box", title=title) for _key, title in charts]
    return [
        html.Div(
            dcc.Graph(id=ids.wall_chart_id(key), figure=figure, config=dict(GRAPH_CONFIG), className="gw-chart"),  # type: ignore[arg-type]
            className="gw-chart-box",
            title=title,
        )
        for (key, title), figure in zip(charts, figures, strict=True)
    ]


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
    wall_charts: Sequence[tuple[str, str]] | None = None,
) -> html.Div:
    """Build the whole page for a user whose jurisdiction is the unit ``home_name``.

    With ``wall_charts`` ((key, title) of trend charts) it is the wall screen: larger type, a
    strip of trend charts under the map, a banner while data is stale, optional rotation.
    """
    wall = wall_charts is not None
    header = page_header(
        lang,
        home_name=home_name,
        user_label=user_label,
        breadcrumb=[html.Button(home_name, id=ids.BREADCRUMB_CITY, className="gw-crumb")],
        current="/wall" if wall else "/",
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
    extras: list[Component] = []
    if wall_charts is not None:
        extras = [
            html.Div(id=ids.STALE_BANNER, className="gw-stale-banner", hidden=True),
            html.Section(wall_chart_boxes(wall_charts), id=ids.WALL_CHARTS, className="gw-wall-charts"),
            dcc.Interval(id=ids.WALL_ROTATE, interval=60_000, disabled=True),
            dcc.Interval(id=ids.WALL_CHART_TICK, interval=WALL_CHARTS_REFRESH_MS),
            html.Div(id=ids.WALL_ROTATION, className="gw-wall-rotation"),
        ]
    return html.Div(
        [
            dcc.Location(id=ids.LOCATION, refresh=False),
            dcc.Store(id=ids.SELECTION, data=first_selection),
            *status_plumbing(lang, STALE_AFTER_MS),
            *alert_plumbing(lang),
            live_socket(["levels", "kpis", "alerts"]),
            header,
            *extras[:1],
            body,
            *extras[1:],
        ],
        id=ids.ROOT,
        className="gw-root gw-dark gw-wall" if wall else "gw-root gw-dark",
        lang="zh-CN" if lang != "en" else "en",
    )
