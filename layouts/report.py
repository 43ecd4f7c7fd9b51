"""The grid worker's phone page (/report): file a case with photos, and check in at patrol points.

Mobile first: one column, large touch targets, a light theme readable in daylight. The map
shows only the worker's own area (drawn from its outline, no tiles unless the city has its own
tile server); a tap on it sets the location when the phone cannot give one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dash_leaflet as dl
from dash import dcc, html
from dash.development.base_component import Component

from domain.catalog import t
from layouts import ids
from layouts.alerts import attrs

__all__ = ["PIN_HIDDEN", "PatrolRow", "report_page"]

_AREA_STYLE = {"variable": "gw.report.areaStyle"}
_AREA_ADDED = {"variable": "gw.report.onArea"}
PIN_HIDDEN = {"color": "#ffffff", "weight": 0, "fillColor": "#cf222e", "fillOpacity": 0, "opacity": 0}


@dataclass(frozen=True, slots=True)
class PatrolRow:
    """A patrol point as the page lists it."""

    id: int
    name: str
    lon: float
    lat: float
    status: str  # checked | due | missed
    status_text: str


def _field(lang: str, key: str, name: str, control: Component, hint: Component | None = None) -> html.Div:
    """A labelled form field with its own error line."""
    return html.Div(
        [
            html.Label(t(key, lang), className="gw-report-label"),
            control,
            *([hint] if hint is not None else []),
            html.Div(id={"type": ids.REPORT_ERROR, "field": name}, className="gw-report-error", role="alert"),
        ],
        className="gw-report-field",
    )


def _map(
    area: Mapping[str, Any] | None,
    bounds: tuple[float, float, float, float],
    points: Sequence[PatrolRow],
    tile_url: str | None,
) -> dl.MapContainer:
    minx, miny, maxx, maxy = bounds
    layers: list[Component] = []
    if tile_url:
        layers.append(dl.TileLayer(url=tile_url, attribution=""))
    if area is not None:
        layers.append(dl.GeoJSON(data=dict(area), style=_AREA_STYLE, onEachFeature=_AREA_ADDED, interactive=False))
    for p in points:
        layers.append(
            dl.CircleMarker(
                center=[p.lat, p.lon],
                radius=7,
                color="#8250df",
                fillColor="#8250df",
                fillOpacity=0.5,
                weight=2,
                interactive=False,
                children=dl.Tooltip(p.name, permanent=False),
            )
        )
    layers.append(
        dl.CircleMarker(
            id=ids.REPORT_PIN,
            center=[(miny + maxy) / 2, (minx + maxx) / 2],
            radius=10,
            pathOptions=PIN_HIDDEN,  # shown once a location is chosen (assets/gw_report.js)
            interactive=False,
        )
    )
    return dl.MapContainer(
        layers,
        id=ids.REPORT_MAP,
        center=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom=15,
        bounds=[[miny, minx], [maxy, maxx]],
        preferCanvas=True,
        attributionControl=False,
        scrollWheelZoom=False,
        className="gw-report-map",
    )


def _patrols(lang: str, points: Sequence[PatrolRow], *, hidden: bool) -> html.Section:
    if not points:
        rows: list[Component] = [html.P(t("patrol.none", lang), className="gw-report-empty")]
    else:
        rows = [
            html.Li(
                [
                    html.Div(
                        [
                            html.Span(p.name, className="gw-patrol-name"),
                            html.Span(
                                p.status_text,
                                id={"type": ids.REPORT_PATROL_STATE, "point": p.id},
                                className=f"gw-patrol-state gw-patrol-{p.status}",
                            ),
                        ],
                        className="gw-patrol-text",
                    ),
                    html.Button(
                        t("patrol.check_in", lang),
                        id={"type": ids.REPORT_CHECKIN, "point": p.id},
                        className="gw-report-button gw-patrol-checkin",
                        n_clicks=0,
                    ),
                ],
                className="gw-patrol-point",
                **attrs({"data-point-id": str(p.id)}),
            )
            for p in points
        ]
    return html.Section(
        [
            html.H2(t("patrol.title", lang), className="gw-report-h2"),
            html.Ul(rows, className="gw-patrol-list"),
            html.Div(id=ids.REPORT_PATROL_MESSAGE, className="gw-report-message", role="status"),
        ],
        className="gw-report-card",
        hidden=hidden,
    )


def report_page(
    lang: str,
    *,
    home_name: str,
    user_label: str,
    may_open: Sequence[str],
    categories: Sequence[tuple[str, str]],
    area: Mapping[str, Any] | None,
    bounds: tuple[float, float, float, float],
    patrol_points: Sequence[PatrolRow] | None,
    max_mb: str,
    max_photos: int,
    description_max: int,
    tile_url: str | None = None,
) -> html.Div:
    """Build the page for a user; ``area`` is their unit's outline (GeoJSON), ``patrol_points`` None hides patrols."""
    texts = {
        "chosen": t("report.location_chosen", lang, lon="{lon}", lat="{lat}", source="{source}"),
        "gps": t("report.source.gps", lang),
        "map": t("report.source.map", lang),
        "none": t("report.location_none", lang),
        "locating": t("report.locating", lang),
        "failed": t("report.locate_failed", lang),
        "photos": t("report.photos_chosen", lang, count="{count}", names="{names}"),
    }
    back = [html.A(t("nav.wall", lang), href="/", className="gw-report-link")] if "/" in may_open else []
    header = html.Header(
        [
            html.H1(t("report.title", lang)),
            html.Div(
                [
                    html.Span(f"{home_name} · {user_label}", className="gw-report-user"),
                    *back,
                    html.Form(
                        html.Button(t("nav.logout", lang), type="submit", className="gw-report-link"),
                        action="/logout",
                        method="POST",
                        className="gw-report-logout",
                    ),
                ],
                className="gw-report-who",
            ),
        ],
        className="gw-report-header",
    )
    form = html.Section(
        [
            _field(
                lang,
                "report.category",
                "category",
                dcc.Dropdown(
                    id=ids.REPORT_CATEGORY,
                    options=[{"label": name, "value": code} for code, name in categories],
                    placeholder=t("report.category_placeholder", lang),
                    searchable=False,
                    clearable=False,
                    className="gw-report-dropdown",
                ),
            ),
            _field(
                lang,
                "report.description",
                "description",
                dcc.Textarea(
                    id=ids.REPORT_DESCRIPTION,
                    placeholder=t("report.description_placeholder", lang),
                    maxLength=description_max,
                    className="gw-report-textarea",
                ),
            ),
            _field(
                lang,
                "report.location",
                "location",
                html.Div(
                    [
                        html.Button(
                            t("report.locate", lang), id=ids.REPORT_LOCATE, className="gw-report-button", n_clicks=0
                        ),
                        html.Span(id=ids.REPORT_LOCATE_STATUS, className="gw-report-hint"),
                        html.Div(t("report.map_hint", lang), className="gw-report-hint"),
                        _map(area, bounds, patrol_points or (), tile_url),
                        html.Div(
                            t("report.location_none", lang), id=ids.REPORT_LOCATION_TEXT, className="gw-report-where"
                        ),
                    ]
                ),
            ),
            _field(
                lang,
                "report.photos",
                "photos",
                dcc.Upload(
                    html.Div(t("report.photos_hint", lang, mb=max_mb, count=max_photos)),
                    id=ids.REPORT_UPLOAD,
                    multiple=True,
                    accept="image/jpeg,image/png,image/webp",
                    className="gw-report-upload",
                ),
                html.Div(id=ids.REPORT_UPLOAD_LIST, className="gw-report-hint"),
            ),
            html.Button(
                t("report.submit", lang),
                id=ids.REPORT_SUBMIT,
                className="gw-report-button gw-report-submit",
                n_clicks=0,
            ),
            html.Div(id=ids.REPORT_RESULT, className="gw-report-message", role="status"),
        ],
        className="gw-report-card",
    )
    recent = html.Section(
        [html.H2(t("report.recent", lang), className="gw-report-h2"), html.Div(id=ids.REPORT_RECENT)],
        className="gw-report-card",
    )
    # Kept in the tree when hidden: the check-in callback's outputs must exist on every page.
    patrols = _patrols(lang, patrol_points or (), hidden=patrol_points is None)
    sections: list[Component] = [header, form, patrols, recent]
    return html.Div(
        [
            dcc.Store(id=ids.REPORT_TEXTS, data=texts),
            dcc.Store(id=ids.REPORT_LOCATION, data=None),
            dcc.Store(id=ids.REPORT_DONE, data=None),
            dcc.Store(id=ids.REPORT_SINK),
            *sections,
        ],
        id=ids.REPORT_ROOT,
        className="gw-report",
        lang="zh-CN" if lang != "en" else "en",
    )
