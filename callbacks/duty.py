"""The duty desk: acknowledge, dispatch and resolve the selected alert; filter the queue by area.

Each action is a guarded callback (its permission, and the selected alert's unit in the
caller's jurisdiction) that calls the same step as the REST API (``ctx.alerts``) and answers
with a message and the alert as the step left it; every screen also hears of it by push.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, State, html
from flask import request

from domain.catalog import t
from domain.permissions import Action, Principal
from geo.hierarchy import Hierarchy, Level
from layouts import ids
from layouts.duty import duty_desk
from layouts.message import message
from runtime.alert_actions import MissingInput, Outcome
from runtime.context import AppContext
from security.guards import current_principal

__all__ = ["filter_units", "page_for", "register"]

_FILTER_DEPTH = 2  # levels below the user's own unit offered as area filters


def filter_units(h: Hierarchy, home: str) -> list[tuple[str, str]]:
    """(code, label) of the areas a user bound to ``home`` may filter by: two levels down, grids excluded."""
    out: list[tuple[str, str]] = []

    def walk(code: str, prefix: str, depth: int) -> None:
        for unit in h.children(code):
            if unit.level is Level.GRID:  # too many to list; a grid worker's own view is the map
                return
            out.append((unit.code, f"{prefix}{unit.name}"))
            if depth + 1 < _FILTER_DEPTH:
                walk(unit.code, f"{prefix}{unit.name} · ", depth + 1)

    walk(home, "", 0)
    return out


def page_for(
    app_ctx: AppContext, principal: Principal, *, home_name: str, user_label: str, may_open: Sequence[str]
) -> html.Div:
    """Build the duty desk for a user."""
    return duty_desk(
        app_ctx.lang(),
        home_name=home_name,
        user_label=user_label,
        units=filter_units(app_ctx.hierarchy, principal.unit_code),
        may_open=may_open,
    )


def register(app: Dash, app_ctx: AppContext) -> None:
    """Wire the duty desk."""
    guard = app_ctx.guard
    actions = app_ctx.alerts
    h = app_ctx.hierarchy

    def selected_scope(_clicks: int | None, alert_id: Any, *_rest: Any) -> tuple[str | None, ...]:
        return (actions.unit_of(alert_id),) if alert_id is not None else ()

    def who() -> Principal:
        principal = current_principal()
        assert principal is not None  # the guard let us in
        return principal

    def ip() -> str:
        return request.remote_addr or "-"

    def say(key: str, ok: bool, **params: object) -> html.Span:
        return message(t(key, app_ctx.lang(), **params), ok)

    def person(username: str | None) -> str:
        lang = app_ctx.lang()
        record = app_ctx.accounts.users.by_username(username) if username else None
        if record is None or record.display_name in ("", username):
            return username or "?"
        return f"{record.display_name}（{username}）" if lang != "en" else f"{record.display_name} ({username})"

    def refused(out: Outcome) -> html.Span:
        lang = app_ctx.lang()
        return say("duty.wrong_state", False, id=out.alert.id, state=t(f"alert_state.{out.alert.state.value}", lang))

    result = (
        Output(ids.ALERT_MESSAGE, "children", allow_duplicate=True),
        Output(ids.ALERT_RESULT, "data", allow_duplicate=True),
    )

    @guard.callback(
        app,
        *result,
        Input(ids.ALERT_ACK, "n_clicks"),
        State(ids.ALERT_SELECTED, "data"),
        State(ids.ALERT_COMMENT, "value"),
        action=Action.ACK_ALERT,
        scope=selected_scope,
        prevent_initial_call=True,
    )
    def acknowledge(_clicks: int | None, alert_id: Any, comment: str | None) -> tuple[Any, Any]:
        """Take ownership of the selected alert, or say who was faster."""
        if alert_id is None:
            return say("duty.need_selection", False), None
        out = actions.acknowledge(int(alert_id), who().username, comment or "", ip())
        if out.done:
            return say("duty.acked", True, id=out.alert.id), actions.wire(out.alert)
        return say("duty.already_acked", False, id=out.alert.id, owner=person(out.alert.acked_by)), actions.wire(
            out.alert
        )

    @guard.callback(
        app,
        *result,
        Input(ids.ALERT_DISPATCH, "n_clicks"),
        State(ids.ALERT_SELECTED, "data"),
        State(ids.ALERT_DISPATCH_TO, "value"),
        State(ids.ALERT_COMMENT, "value"),
        action=Action.DISPATCH,
        scope=selected_scope,
        prevent_initial_call=True,
    )
    def dispatch(_clicks: int | None, alert_id: Any, to: str | None, comment: str | None) -> tuple[Any, Any]:
        """Send the selected alert to a person or unit."""
        if alert_id is None:
            return say("duty.need_selection", False), None
        try:
            out = actions.dispatch(int(alert_id), who().username, to or "", comment or "", ip())
        except MissingInput:
            return say("duty.need_to", False), None
        if out.done:
            return say("duty.dispatched", True, id=out.alert.id, to=out.alert.dispatched_to), actions.wire(out.alert)
        return refused(out), actions.wire(out.alert)

    @guard.callback(
        app,
        *result,
        Input(ids.ALERT_RESOLVE, "n_clicks"),
        State(ids.ALERT_SELECTED, "data"),
        State(ids.ALERT_COMMENT, "value"),
        action=Action.ACK_ALERT,
        scope=selected_scope,
        prevent_initial_call=True,
    )
    def resolve(_clicks: int | None, alert_id: Any, comment: str | None) -> tuple[Any, Any]:
        """Record how the selected alert was handled."""
        if alert_id is None:
            return say("duty.need_selection", False), None
        out = actions.resolve(int(alert_id), who().username, comment or "", ip())
        if out.done:
            return say("duty.resolved", True, id=out.alert.id), actions.wire(out.alert)
        return refused(out), actions.wire(out.alert)

    @guard.callback(
        app,
        Output(ids.ALERT_FILTER_GRIDS, "data"),
        Input(ids.ALERT_FILTER_UNIT, "value"),
        action=Action.ACK_ALERT,
        scope=lambda unit: (unit,),
        prevent_initial_call=True,
    )
    def area(unit: str | None) -> list[str] | None:
        """The grids under the chosen area (in the caller's jurisdiction), or None for all of it."""
        return list(h.grids_under(unit)) if unit else None

    app.clientside_callback(
        ClientsideFunction("gw_alerts", "onFilter"),
        Output(ids.ALERT_SINK, "data", allow_duplicate=True),
        Input(ids.ALERT_FILTER_SEVERITY, "value"),
        Input(ids.ALERT_FILTER_STATE, "value"),
        Input(ids.ALERT_FILTER_GRIDS, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gw_alerts", "onResult"),
        Output(ids.ALERT_SINK, "data", allow_duplicate=True),
        Input(ids.ALERT_RESULT, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gw_alerts", "onSelected"),
        Output(ids.ALERT_SELECTED_LABEL, "children"),
        Input(ids.ALERT_SELECTED, "data"),
        State(ids.ALERT_TEXTS, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gw_alerts", "onSoundToggle"),
        Output(ids.ALERT_SINK, "data", allow_duplicate=True),
        Input(ids.SOUND_TOGGLE, "n_clicks"),
        prevent_initial_call=True,
    )
