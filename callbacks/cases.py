"""The cases page: list and filter cases, show one and take workflow steps, supervise, score.

Every callback is guarded (VIEW_CASES, and the case's unit in the caller's jurisdiction for
the steps); the steps themselves are ``ctx.cases.act`` — the same checks as the REST API — and
a refusal (a CaseError) is shown on screen. Lists are queried again every 5 s (new cases appear
without a reload); deadlines count down in the browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, callback_context, html
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from flask import request

from callbacks.duty import filter_units
from domain.cases import ACTION_NEEDS, CaseAction, CaseState, actions_from
from domain.catalog import t
from domain.permissions import Action, Principal, Role, allowed
from layouts import ids
from layouts.cases import case_detail, case_list, cases_page, overdue_list, score_table
from layouts.message import message
from runtime.case_service import CaseError
from runtime.case_supervisor import responsible_unit
from runtime.context import AppContext
from runtime.scoreboard_service import DEFAULT_DAYS, BadScoreQuery, ScoreDenied, ScoreQuery
from security.guards import current_principal
from storage.case_repository import CaseFilter, CaseRecord

__all__ = ["PAGE_SIZE", "may_take", "page_for", "register"]

PAGE_SIZE = 20
OVERDUE_LIMIT = 200


def may_take(principal: Principal, case: CaseRecord) -> list[CaseAction]:
    """The steps the workflow allows now that this person's role may take (the service checks again)."""
    out = []
    for action in actions_from(case.state):
        if not allowed(principal, ACTION_NEEDS[action]):
            continue
        handler_step = action in (CaseAction.START, CaseAction.FEEDBACK)
        if principal.role is Role.GRID_WORKER and handler_step and case.assignee not in (None, principal.username):
            continue
        out.append(action)
    return out


def page_for(
    app_ctx: AppContext, principal: Principal, *, home_name: str, user_label: str, may_open: Sequence[str]
) -> html.Div:
    """Build the cases page for a user."""
    lang = app_ctx.lang()
    cfg = app_ctx.cases.config
    h = app_ctx.hierarchy
    today = app_ctx.scoreboard.today()
    w = app_ctx.scoreboard.weights
    return cases_page(
        lang,
        home_name=home_name,
        user_label=user_label,
        may_open=may_open,
        states=[s.value for s in CaseState],
        categories=[(c.service_code, c.name(lang)) for c in cfg.categories],
        departments=[(d.code, d.name(lang)) for d in cfg.departments.values()],
        units=filter_units(h, principal.unit_code),
        home=(principal.unit_code, h.get(principal.unit_code).name),
        period=(today - timedelta(days=DEFAULT_DAYS - 1), today + timedelta(days=1)),
        may_export=allowed(principal, Action.EXPORT),
        weights={
            "on_time": w.on_time,
            "satisfaction": w.satisfaction,
            "reopen": w.reopen,
            "checkins": w.checkins,
            "verification": w.verification,
        },
    )


def register(app: Dash, app_ctx: AppContext) -> None:  # one small function per callback
    """Wire the cases page."""
    guard = app_ctx.guard
    cases = app_ctx.cases
    h = app_ctx.hierarchy
    tz = timezone(timedelta(minutes=app_ctx.settings.utc_offset_min))

    def who() -> Principal:
        principal = current_principal()
        assert principal is not None  # the guard let us in
        return principal

    def local(ts: datetime) -> str:
        return ts.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    def say(key: str, ok: bool, **params: object) -> html.Span:
        return message(t(key, app_ctx.lang(), **params), ok)

    def unit_name(code: str) -> str:
        return h.get(code).name if code in h else code

    app.clientside_callback(
        ClientsideFunction("gw_cases", "onTab"), Output(ids.CASES_BODY, "className"), Input(ids.CASES_TABS, "value")
    )
    app.clientside_callback(
        ClientsideFunction("gw_cases", "onTick"),
        Output(ids.CASES_SINK, "data"),
        Input(ids.CASES_TICK, "n_intervals"),
        State(ids.CASES_TEXTS, "data"),
    )

    # -- list -------------------------------------------------------------------------------------
    def list_filter(states: Any, codes: Any, flags: Any) -> CaseFilter:
        """A filter from what the browser sent; anything else than known states and codes is ignored."""
        flags = _strings(flags)
        known = {s.value for s in CaseState}
        return CaseFilter(
            states=[CaseState(s) for s in _strings(states) if s in known],
            service_codes=[c for c in _strings(codes) if c in cases.config.categories_by_code],
            overdue_at=cases.now() if "overdue" in flags else None,
            open_only="open" in flags,
            limit=PAGE_SIZE,
        )

    @guard.callback(
        app,
        Output(ids.CASES_PAGE_NO, "data"),
        Input(ids.CASES_PREV, "n_clicks"),
        Input(ids.CASES_NEXT, "n_clicks"),
        Input(ids.CASES_FILTER_STATE, "value"),
        Input(ids.CASES_FILTER_CATEGORY, "value"),
        Input(ids.CASES_FILTER_FLAGS, "value"),
        State(ids.CASES_PAGE_NO, "data"),
        State(ids.CASES_PAGE_COUNT, "data"),
        action=Action.VIEW_CASES,
        prevent_initial_call=True,
    )
    def turn(_prev: int, _next: int, _s: Any, _c: Any, _f: Any, page: int | None, count: int | None) -> int:
        """Go to the previous or next page; a new filter starts again at the first."""
        page, count = _whole(page), max(1, _whole(count))
        trigger = callback_context.triggered_id
        if trigger == ids.CASES_PREV:
            return max(0, page - 1)
        if trigger == ids.CASES_NEXT:
            return min(count - 1, page + 1)
        return 0

    @guard.callback(
        app,
        Output(ids.CASES_LIST, "children"),
        Output(ids.CASES_PAGE_LABEL, "children"),
        Output(ids.CASES_PAGE_COUNT, "data"),
        Input(ids.CASES_FILTER_STATE, "value"),
        Input(ids.CASES_FILTER_CATEGORY, "value"),
        Input(ids.CASES_FILTER_FLAGS, "value"),
        Input(ids.CASES_PAGE_NO, "data"),
        Input(ids.CASES_REFRESH, "n_intervals"),
        Input(ids.CASE_RESULT, "data"),
        State(ids.CASE_SELECTED, "data"),
        action=Action.VIEW_CASES,
    )
    def show_list(
        states: list[str] | None,
        codes: list[str] | None,
        flags: list[str] | None,
        page: int | None,
        _tick: Any,
        _result: Any,
        selected: int | None,
    ) -> tuple[Component, str, int]:
        """One page of the cases in the caller's jurisdiction that match the filters, newest first."""
        lang = app_ctx.lang()
        f = list_filter(states, codes, flags)
        total = cases.count(who(), f)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(_whole(page), pages - 1)
        found = cases.find(who(), replace(f, offset=page * PAGE_SIZE))
        now = cases.now()
        rows = [cases.wire(c, lang, now=now) for c in found]
        label = t("cases.page", lang, page=page + 1, pages=pages, total=total)
        return case_list(lang, rows, selected if isinstance(selected, int) else None), label, pages

    @guard.callback(
        app,
        Output(ids.CASE_SELECTED, "data"),
        Output(ids.CASES_TABS, "value"),
        Input({"type": ids.CASE_ROW, "id": ALL}, "n_clicks"),
        action=Action.VIEW_CASES,
        prevent_initial_call=True,
    )
    def select(_clicks: list[int | None]) -> tuple[int, str]:
        """Open the clicked case in the detail tab (rows drawn anew count no click)."""
        fired = callback_context.triggered
        if not fired or not fired[0].get("value"):
            raise PreventUpdate
        trigger = callback_context.triggered_id
        if not isinstance(trigger, dict) or not isinstance(trigger.get("id"), int):
            raise PreventUpdate
        return int(trigger["id"]), "detail"

    # -- detail and steps -------------------------------------------------------------------------
    @guard.callback(
        app,
        Output(ids.CASE_DETAIL, "children"),
        Output(ids.CASE_SHOWN, "data"),
        Output(ids.CASE_ACTIONBAR, "className"),
        Input(ids.CASE_SELECTED, "data"),
        Input(ids.CASE_RESULT, "data"),
        action=Action.VIEW_CASES,
    )
    def detail(case_id: Any, _result: Any) -> tuple[Component, Any, str]:
        """The selected case (if the caller may see it), and the steps they may take on it."""
        lang = app_ctx.lang()
        if not isinstance(case_id, int) or isinstance(case_id, bool):
            return html.P(t("cases.select_hint", lang), className="gw-empty"), None, "gw-case-actionbar gw-none"
        principal = who()
        try:
            case = cases.visible(principal, case_id)
        except CaseError as exc:
            return say("cases.refused", False, id=case_id, reason=str(exc)), None, "gw-case-actionbar gw-none"
        now = cases.now()
        body = {**cases.wire(case, lang, now=now), "created_local": local(case.created_at)}
        steps = [
            {"when": local(s.ts), "actor": s.actor, "action": s.action, "note": s.note, "on_time": s.on_time}
            for s in cases.cases.steps([case.id])[case.id]
        ]
        photos = [{"id": p.id, "url": f"/api/v1/cases/{case.id}/photos/{p.id}"} for p in cases.cases.photos(case.id)]
        can = " ".join(f"gw-can-{a.value}" for a in may_take(principal, case))
        shown = {"id": case.id, "version": case.version}
        return case_detail(lang, body, steps, photos), shown, f"gw-case-actionbar {can or 'gw-none'}"

    def shown_scope(_clicks: Any, shown: Any, *_rest: Any) -> tuple[str | None, ...]:
        """The unit of the case on screen: the guard refuses a step outside the caller's jurisdiction."""
        if not isinstance(shown, dict) or not isinstance(shown.get("id"), int):
            return ()
        try:
            return (cases.cases.get(shown["id"]).unit_code,)
        except KeyError:
            return ()  # no such case: the service says so

    def register_step(action: CaseAction) -> None:
        def step(
            clicks: int | None,
            shown: Any,
            note: str | None,
            grid: str | None,
            department: str | None,
            assignee: str | None,
            satisfaction: Any,
        ) -> tuple[Component, Any]:
            """Take this step on the case on screen, as it was shown (a case moved meanwhile is refused)."""
            lang = app_ctx.lang()
            if not clicks:
                raise PreventUpdate
            if not isinstance(shown, dict) or not isinstance(shown.get("id"), int):
                return say("cases.need_selection", False), None
            version = shown.get("version")
            try:
                case = cases.act(
                    who(),
                    shown["id"],
                    action,
                    request.remote_addr or "-",
                    note=note or "",
                    grid_code=grid or None,
                    department=department or None,
                    assignee=assignee or None,
                    satisfaction=satisfaction
                    if isinstance(satisfaction, int) and not isinstance(satisfaction, bool)
                    else None,
                    expected_version=version if isinstance(version, int) else None,
                )
            except CaseError as exc:
                return say("cases.refused", False, id=shown["id"], reason=str(exc)), None
            label = t(f"case_action.{action.value}", lang)
            state = t(f"case_state.{case.state.value}", lang)
            return say("cases.done", True, id=case.id, action=label, state=state), cases.wire(case, lang)

        step.__name__ = f"case_{action.value}"  # names the callback in the audit trail
        guard.callback(
            app,
            Output(ids.CASE_MESSAGE, "children", allow_duplicate=True),
            Output(ids.CASE_RESULT, "data", allow_duplicate=True),
            Input(ids.case_action(action.value), "n_clicks"),
            State(ids.CASE_SHOWN, "data"),
            State(ids.CASE_NOTE, "value"),
            State(ids.CASE_GRID, "value"),
            State(ids.CASE_DEPARTMENT, "value"),
            State(ids.CASE_ASSIGNEE, "value"),
            State(ids.CASE_SATISFACTION, "value"),
            action=Action.VIEW_CASES,
            scope=shown_scope,
            prevent_initial_call=True,
        )(step)

    for action in CaseAction:
        register_step(action)

    # -- supervision ------------------------------------------------------------------------------
    @guard.callback(
        app,
        Output(ids.CASES_OVERDUE, "children"),
        Input(ids.CASES_REFRESH, "n_intervals"),
        Input(ids.CASE_RESULT, "data"),
        action=Action.VIEW_CASES,
    )
    def supervise(_tick: Any, _result: Any) -> Component:
        """Overdue cases in the caller's jurisdiction, most overdue first, with who owes the step."""
        lang = app_ctx.lang()
        now = cases.now()
        found = cases.find(who(), CaseFilter(overdue_at=now, by_due=True, limit=OVERDUE_LIMIT))
        rows = []
        for c in found:
            owes = responsible_unit(c, h)
            rows.append({**cases.wire(c, lang, now=now), "responsible": owes, "responsible_name": unit_name(owes)})
        return overdue_list(lang, rows)

    # -- scoreboard -------------------------------------------------------------------------------
    @guard.callback(
        app,
        Output(ids.SCOREBOARD_SORT, "data"),
        Input({"type": ids.SCOREBOARD_SORT_BY, "key": ALL}, "n_clicks"),
        State(ids.SCOREBOARD_SORT, "data"),
        action=Action.VIEW_CASES,
        prevent_initial_call=True,
    )
    def sort_by(_clicks: list[int | None], current: Any) -> dict[str, str]:
        """Sort by the clicked column; clicked again, the other way."""
        fired = callback_context.triggered
        trigger = callback_context.triggered_id
        if not fired or not fired[0].get("value") or not isinstance(trigger, dict):
            raise PreventUpdate
        key = str(trigger.get("key"))
        current = current if isinstance(current, dict) else {}
        if current.get("key") == key:
            return {"key": key, "order": "asc" if current.get("order") == "desc" else "desc"}
        return {"key": key, "order": "asc" if key in ("key", "name") else "desc"}

    @guard.callback(
        app,
        Output(ids.SCOREBOARD, "children"),
        Output(ids.SCOREBOARD_EXPORT, "href"),
        Input(ids.SCOREBOARD_BY, "value"),
        Input(ids.SCOREBOARD_UNIT, "value"),
        Input(ids.SCOREBOARD_PERIOD, "start_date"),
        Input(ids.SCOREBOARD_PERIOD, "end_date"),
        Input(ids.SCOREBOARD_SORT, "data"),
        action=Action.VIEW_CASES,
        scope=lambda _by, unit, *_rest: (unit,),
    )
    def scoreboard(by: Any, unit: Any, start: Any, end: Any, sort: Any) -> tuple[Component, str]:
        """The scoreboard for the chosen rows, area and period, and the link that exports it."""
        lang = app_ctx.lang()
        sort = sort if isinstance(sort, dict) else {}
        args = {
            "by": str(by or "worker"),
            "unit": str(unit or ""),
            "from": str(start or "")[:10],
            "to": str(end or "")[:10],
            "sort": str(sort.get("key", "score")),
            "order": str(sort.get("order", "desc")),
        }
        try:
            board = app_ctx.scoreboard.board(who(), ScoreQuery.parse(args))
        except (BadScoreQuery, ScoreDenied) as exc:
            return html.P(str(exc), className="gw-msg-error"), ""
        rows = [r.as_dict() for r in board.rows]
        href = "/api/v1/scoreboard.csv?" + urlencode({**args, "lang": lang})
        order = "desc" if board.descending else "asc"
        return score_table(lang, board.by, rows, board.sort, order), href


def _strings(value: Any) -> list[str]:
    """The strings of a list the browser sent (anything else: none)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _whole(value: Any) -> int:
    """A whole number of 0 or more the browser sent (anything else: 0)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
