"""The leader's view: the map on the left, the selected unit's figures and ten trend charts on the right.

Only components here; callbacks/leader.py fills the panel for the unit the map selects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from domain.catalog import t
from domain.unit_kpis import UnitKpi
from figures.theme import GRAPH_CONFIG
from layouts import ids
from layouts.header import page_header, status_plumbing
from layouts.legend import map_legend
from layouts.live_socket import live_socket
from layouts.map import city_map

__all__ = ["case_rows", "device_rows", "kpi_cards", "leader_view", "unit_detail"]

PANEL_REFRESH_MS = 15_000  # the panel's figures; the map itself is live


def leader_view(
    lang: str,
    *,
    home_name: str,
    user_label: str,
    bounds: tuple[float, float, float, float],
    first_selection: dict[str, object],
    window_minutes: int,
    charts: Sequence[tuple[str, str]],
    may_open: Sequence[str],
    tile_url: str | None = None,
) -> html.Div:
    """Build the page; ``charts`` lists (key, title) of the trend charts in order."""
    header = page_header(
        lang,
        home_name=home_name,
        user_label=user_label,
        breadcrumb=[html.Button(home_name, id=ids.BREADCRUMB_CITY, className="gw-crumb")],
        current="/leader",
        may_open=may_open,
    )
    graphs = [
        html.Div(
            dcc.Graph(id=ids.chart_id(key), config=dict(GRAPH_CONFIG), className="gw-chart"),  # type: ignore[arg-type]
            className="gw-chart-box",
            title=title,
        )
        for key, title in charts
    ]
    panel = html.Aside(
        [
            html.H2(home_name, id=ids.UNIT_TITLE, className="gw-unit-title"),
            html.H3(t("leader.kpis", lang), className="gw-panel-heading"),
            html.Div(id=ids.KPIS, className="gw-unit-kpis"),
            html.Div(id=ids.UNIT_DETAIL, className="gw-unit-detail"),
            html.H3(t("leader.charts", lang), className="gw-panel-heading"),
            html.Div(graphs, className="gw-charts"),
        ],
        id=ids.LEADER_PANEL,
        className="gw-leader-panel",
    )
    body = html.Main(
        [
            html.Section(
                [
                    city_map(bounds, tile_url),
                    map_legend(lang, window_minutes),
                    html.Div(t("leader.hint", lang), className="gw-map-hint"),
                ],
                className="gw-map-panel",
            ),
            panel,
        ],
        className="gw-body gw-leader-body",
    )
    return html.Div(
        [
            dcc.Location(id=ids.LOCATION, refresh=False),
            dcc.Store(id=ids.SELECTION, data=first_selection),
            dcc.Interval(id=ids.LEADER_TICK, interval=PANEL_REFRESH_MS),
            dcc.Store(id=ids.LEADER_SELECTION),
            *status_plumbing(lang, 0),
            live_socket(["levels"]),
            header,
            body,
        ],
        id=ids.ROOT,
        className="gw-root gw-dark gw-leader",
        lang="zh-CN" if lang != "en" else "en",
    )


def kpi_cards(lang: str, kpis: Sequence[UnitKpi]) -> list[html.Div]:
    """One small card per figure; alarming ones marked."""
    return [
        html.Div(
            [html.Div(k.value, className="gw-kpi-value"), html.Div(t(k.key, lang), className="gw-kpi-label")],
            className="gw-kpi gw-kpi-alarm" if k.alarm else "gw-kpi",
            title=k.key,
        )
        for k in kpis
    ]


def device_rows(lang: str, devices: Sequence[tuple[str, str, bool]]) -> html.Ul:
    """(id, type, online) of a grid's devices, offline first."""
    ordered = sorted(devices, key=lambda d: (d[2], d[0]))
    return html.Ul(
        [
            html.Li(
                [
                    html.Span(t("leader.device_online" if online else "leader.device_offline", lang)),
                    f" {device_type} · {device_id}",
                ],
                className="gw-device gw-device-online" if online else "gw-device gw-device-offline",
            )
            for device_id, device_type, online in ordered
        ],
        className="gw-devices",
    )


def case_rows(lang: str, cases: Sequence[dict[str, Any]], total: int) -> list[Any]:
    """A grid's open cases: number, category, state, overdue marked."""
    if not cases:
        return [html.P(t("leader.no_cases", lang), className="gw-empty")]
    items = [
        html.Li(
            [
                html.A(f"#{c['id']}", href=f"/cases?case={c['id']}"),
                f" {c['category']} · {t('case_state.' + c['state'], lang)}",
                html.Span(f" {t('leader.overdue', lang)}", className="gw-overdue") if c.get("overdue") else "",
            ]
        )
        for c in cases
    ]
    more = [html.P(t("leader.more", lang, n=total - len(cases)))] if total > len(cases) else []
    return [html.Ul(items, className="gw-case-rows"), *more]


def unit_detail(
    lang: str,
    *,
    workers: Sequence[str],
    devices: Sequence[tuple[str, str, bool]],
    cases: Sequence[dict[str, Any]],
    cases_total: int,
    alerts: Sequence[dict[str, Any]],
    alerts_total: int,
) -> list[Any]:
    """A grid's people, devices, open cases and open alerts."""
    online = sum(1 for d in devices if d[2])
    alert_items = [html.Li(f"{a.get('text') or a.get('rule')} · {a.get('unit_name', '')}") for a in alerts]
    return [
        html.H3(t("leader.detail", lang), className="gw-panel-heading"),
        html.H4(t("leader.workers", lang)),
        html.P(", ".join(workers) if workers else t("leader.no_workers", lang), className="gw-workers"),
        html.H4(t("leader.devices", lang, online=online, total=len(devices))),
        device_rows(lang, devices),
        html.H4(t("leader.open_cases", lang)),
        *case_rows(lang, cases, cases_total),
        html.H4(t("leader.open_alerts", lang)),
        html.Ul(alert_items, className="gw-alert-rows")
        if alert_items
        else html.P(t("leader.no_alerts", lang), className="gw-empty"),
        html.P(t("leader.more", lang, n=alerts_total - len(alerts))) if alerts_total > len(alerts) else "",
    ]
