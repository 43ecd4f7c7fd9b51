"""The phone page (/report): file a case with photos inside one's own unit, and check in at patrol points.

Submitting is one guarded callback (the REPORT permission) over ``FieldReports``: every bad
field is said under the field, and nothing is stored unless all are good. The location is the
phone's (``navigator.geolocation``, in assets/gw_report.js) or a tap on the map; a check-in uses
the same location. A tapped location is accepted for check-ins too (headless browsers and
phones without a fix have no other), and the audit says which source was used.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import shapely  # type: ignore[import-untyped, unused-ignore]
from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, html
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from flask import request

from domain.catalog import t
from domain.permissions import Action, Principal, Role
from geo.hierarchy import Level
from layouts import ids
from layouts.alerts import attrs
from layouts.message import message
from layouts.report import PatrolRow, report_page
from runtime.context import AppContext
from runtime.field_report import DESCRIPTION_MAX, FieldReports, ReportForm, ReportRejected, message_text
from runtime.patrol_service import PatrolError
from runtime.photo_store import MAX_PHOTOS
from security.guards import current_principal
from storage.case_repository import CaseFilter

__all__ = ["page_for", "register"]

_RECENT = 10


def _patrol_rows(app_ctx: AppContext, principal: Principal) -> list[PatrolRow] | None:
    """Today's patrol points of a grid worker's grid (None for anyone else: they do not check in)."""
    if principal.role is not Role.GRID_WORKER:
        return None
    lang = app_ctx.lang()
    days = app_ctx.patrols.status(principal.unit_code, app_ctx.patrols.today())
    return [
        PatrolRow(
            d.point.id,
            d.point.name,
            d.point.lon,
            d.point.lat,
            d.status.value,
            t(f"patrol.status.{d.status.value}", lang),
        )
        for d in days
    ]


def page_for(
    app_ctx: AppContext, principal: Principal, *, home_name: str, user_label: str, may_open: Sequence[str]
) -> html.Div:
    """Build the phone page for a user: their unit's outline, categories, and (grid workers) today's patrol."""
    s = app_ctx.settings
    h = app_ctx.hierarchy
    unit = h.get(principal.unit_code)
    area = None
    if unit.level in (Level.GRID, Level.COMMUNITY):  # a city's outline is no help on a phone
        area = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": shapely.geometry.mapping(unit.geometry),
                    "properties": {"code": unit.code},
                }
            ],
        }
    return report_page(
        s.language,
        home_name=home_name,
        user_label=user_label,
        may_open=may_open,
        categories=[(c.service_code, c.name(s.language)) for c in app_ctx.cases.config.categories],
        area=area,
        bounds=h.bounds(unit.code),
        patrol_points=_patrol_rows(app_ctx, principal),
        max_mb=f"{s.photo_max_bytes / 1_000_000:g}",
        max_photos=MAX_PHOTOS,
        description_max=DESCRIPTION_MAX,
        tile_url=s.tile_url,
    )


def register(app: Dash, app_ctx: AppContext) -> None:
    """Wire the phone page."""
    guard = app_ctx.guard
    tz = timezone(timedelta(minutes=app_ctx.settings.utc_offset_min))
    reports = FieldReports(app_ctx.cases, app_ctx.photos, app_ctx.hierarchy)

    def who() -> Principal:
        principal = current_principal()
        assert principal is not None  # the guard let us in
        return principal

    def local(ts: datetime | None) -> str:
        return ts.astimezone(tz).strftime("%Y-%m-%d %H:%M") if ts else ""

    app.clientside_callback(
        ClientsideFunction("gw_report", "locate"),
        Output(ids.REPORT_LOCATE_STATUS, "children"),
        Input(ids.REPORT_LOCATE, "n_clicks"),
        State(ids.REPORT_TEXTS, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gw_report", "onMapClick"),
        Output(ids.REPORT_LOCATION, "data"),
        Input(ids.REPORT_MAP, "clickData"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gw_report", "onLocation"),
        Output(ids.REPORT_PIN, "center"),
        Output(ids.REPORT_PIN, "pathOptions"),
        Output(ids.REPORT_LOCATION_TEXT, "children"),
        Input(ids.REPORT_LOCATION, "data"),
        State(ids.REPORT_TEXTS, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gw_report", "onFiles"),
        Output(ids.REPORT_UPLOAD_LIST, "children"),
        Input(ids.REPORT_UPLOAD, "filename"),
        State(ids.REPORT_TEXTS, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gw_report", "onDone"),
        Output(ids.REPORT_SINK, "data"),
        Input(ids.REPORT_DONE, "data"),
        prevent_initial_call=True,
    )

    @guard.callback(
        app,
        Output({"type": ids.REPORT_ERROR, "field": ALL}, "children"),
        Output(ids.REPORT_RESULT, "children"),
        Output(ids.REPORT_DONE, "data"),
        Input(ids.REPORT_SUBMIT, "n_clicks"),
        State(ids.REPORT_CATEGORY, "value"),
        State(ids.REPORT_DESCRIPTION, "value"),
        State(ids.REPORT_LOCATION, "data"),
        State(ids.REPORT_UPLOAD, "contents"),
        State(ids.REPORT_UPLOAD, "filename"),
        action=Action.REPORT,
        prevent_initial_call=True,
    )
    def submit(
        _clicks: int | None,
        category: str | None,
        description: str | None,
        location: Any,
        contents: list[str] | str | None,
        filenames: list[str] | str | None,
    ) -> tuple[list[str], Component, Any]:
        """File the report, or say what is wrong with each field."""
        lang = app_ctx.lang()
        fields = [o["id"]["field"] for o in ctx.outputs_list[0]]
        where = location if isinstance(location, dict) else {}
        urls = [contents] if isinstance(contents, str) else list(contents or [])
        names = [filenames] if isinstance(filenames, str) else list(filenames or [])
        names += [""] * (len(urls) - len(names))
        form = ReportForm(
            category, description, where.get("lon"), where.get("lat"), list(zip(names, urls, strict=False))
        )
        try:
            case, photos = reports.submit(who(), form, request.remote_addr or "-")
        except ReportRejected as exc:
            errors = {k: message_text(v, lang) for k, v in exc.errors.items()}
            general = errors.pop("form", None) or t("report.fix_fields", lang)
            return [errors.get(f, "") for f in fields], message(general, False), None
        due = local(case.due_at)
        done = t("report.done", lang, id=case.id, due=due) if due else t("report.done_no_due", lang, id=case.id)
        result = html.Span(done, className="gw-msg-ok", **attrs({"data-case-id": str(case.id)}))
        return ["" for _ in fields], result, {"case_id": case.id, "photos": len(photos)}

    @guard.callback(
        app,
        Output(ids.REPORT_RECENT, "children"),
        Input(ids.REPORT_DONE, "data"),
        action=Action.REPORT,
    )
    def recent(_done: Any) -> Component:
        """The caller's own latest reports with their state."""
        lang = app_ctx.lang()
        principal = who()
        found = app_ctx.cases.cases.find(CaseFilter(reporter=principal.username, limit=_RECENT))
        if not found:
            return html.P(t("report.recent_empty", lang), className="gw-report-empty")
        names = {c.service_code: c.name(lang) for c in app_ctx.cases.config.categories}
        return html.Ul(
            [
                html.Li(
                    t(
                        "report.recent_item",
                        lang,
                        id=c.id,
                        category=names.get(c.service_code, c.service_code),
                        state=t(f"report.state.{c.state.value}", lang),
                        created=local(c.created_at),
                    ),
                    className=f"gw-report-case gw-case-{c.state.value}",
                    **attrs({"data-case-id": str(c.id), "data-state": c.state.value}),
                )
                for c in found
            ],
            className="gw-report-recent",
        )

    @guard.callback(
        app,
        Output(ids.REPORT_PATROL_MESSAGE, "children"),
        Output({"type": ids.REPORT_PATROL_STATE, "point": ALL}, "children"),
        Output({"type": ids.REPORT_PATROL_STATE, "point": ALL}, "className"),
        Input({"type": ids.REPORT_CHECKIN, "point": ALL}, "n_clicks"),
        State(ids.REPORT_LOCATION, "data"),
        action=Action.REPORT,
        prevent_initial_call=True,
    )
    def check_in(clicks: list[int | None], location: Any) -> tuple[Component, list[str], list[str]]:
        """Check in at the pressed point from the current location; then every point's status today."""
        lang = app_ctx.lang()
        pressed = ctx.triggered_id
        if not isinstance(pressed, dict) or not any(clicks):
            raise PreventUpdate
        principal = who()
        where = location if isinstance(location, dict) else {}
        if where.get("lon") is None or where.get("lat") is None:
            said = message(t("patrol.error.no_location", lang), False)
        else:
            try:
                done = app_ctx.patrols.check_in(
                    principal,
                    int(pressed.get("point") or 0),
                    where["lon"],
                    where["lat"],
                    request.remote_addr or "-",
                    source=str(where.get("source") or "map")[:8],
                )
                key = "patrol.checked_in" if done.counted else "patrol.checked_again"
                said = message(t(key, lang, name=done.point.name, m=round(done.checkin.distance_m)), True)
            except PatrolError as exc:
                said = message(t(exc.key, lang, **exc.params), False)
        rows = {r.id: r for r in _patrol_rows(app_ctx, principal) or []}
        points = [o["id"]["point"] for o in ctx.outputs_list[1]]
        texts = [rows[p].status_text if p in rows else "" for p in points]
        classes = [f"gw-patrol-state gw-patrol-{rows[p].status}" if p in rows else "gw-patrol-state" for p in points]
        return said, texts, classes
