"""The verification tasks page: the grid worker records results, staff and leaders watch progress.

The worker's buttons are one guarded callback (``Action.HANDLE_CASE``, the task's grid in the
caller's jurisdiction) calling the same step as the REST API (``ctx.verification.complete``),
which also insists on the caller being bound to that very grid. A refused or bad input is
said on screen; the list is redrawn after every answer, so a task done elsewhere disappears.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from dash import Dash, Input, Output, State, ctx, html
from dash.development.base_component import Component
from flask import request

from domain.catalog import t
from domain.permissions import Action, Principal, allowed
from domain.verification import TaskResult, TaskState
from geo.hierarchy import Level
from layouts import ids
from layouts.message import message
from layouts.tasks import ProgressRow, TaskOption, progress_table, task_options, tasks_page
from runtime.context import AppContext
from runtime.verification_service import VerificationError
from security.guards import current_principal

__all__ = ["page_for", "register"]

_BUTTONS = {
    ids.TASKS_PASS: TaskResult.PASS,
    ids.TASKS_FAIL: TaskResult.FAIL,
    ids.TASKS_UNREACHABLE: TaskResult.UNREACHABLE,
}
_MAX_ROWS = 2000  # progress lines on one screen; the API has them all


def _local(app_ctx: AppContext, when: datetime) -> str:
    """A time as people here read it (the city's UTC offset)."""
    return (when + timedelta(minutes=app_ctx.settings.utc_offset_min)).strftime("%m-%d %H:%M")


def _is_worker(app_ctx: AppContext, principal: Principal) -> bool:
    """Whether this person visits (bound to a grid and may handle cases) rather than watches."""
    h = app_ctx.hierarchy
    unit = principal.unit_code
    return allowed(principal, Action.HANDLE_CASE) and unit in h and h.get(unit).level == Level.GRID


def _pending(app_ctx: AppContext, principal: Principal) -> list[TaskOption]:
    service = app_ctx.verification
    found = service.tasks(principal, grid=principal.unit_code, state=TaskState.PENDING)
    out = []
    for task in service.wire_tasks(principal, found):
        subject = task["subject"]
        who = " ".join(str(subject[k]) for k in ("name", "id_number", "phone") if subject.get(k))
        out.append(
            TaskOption(
                id=task["id"],
                batch=task["batch_title"],
                deadline=_local(app_ctx, datetime.fromisoformat(task["deadline"])),
                subject=who,
                address=task["address"],
                overdue=task["overdue"],
            )
        )
    return out


def _progress(app_ctx: AppContext, principal: Principal) -> list[ProgressRow]:
    service = app_ctx.verification
    h = app_ctx.hierarchy
    rows: list[ProgressRow] = []
    for view in service.views_for_unit(service.unit_of(principal), per_grid=True):
        b = view.batch
        due = _local(app_ctx, b.deadline)
        rows.append(ProgressRow(b.id, b.title, due, "", view.progress))
        for code, p in view.grids.items():
            rows.append(ProgressRow(b.id, b.title, due, h.get(code).name if code in h else code, p))
    return rows[:_MAX_ROWS]


def page_for(
    app_ctx: AppContext, principal: Principal, *, home_name: str, user_label: str, may_open: Sequence[str]
) -> html.Div:
    """Build /tasks for a user: their grid's pending tasks if they visit, and the progress they may see."""
    worker = _is_worker(app_ctx, principal)
    return tasks_page(
        app_ctx.lang(),
        home_name=home_name,
        user_label=user_label,
        may_open=may_open,
        worker_tasks=_pending(app_ctx, principal) if worker else None,
        progress=_progress(app_ctx, principal) if allowed(principal, Action.VIEW_CASES) else [],
    )


def register(app: Dash, app_ctx: AppContext) -> None:
    """Wire the tasks page."""
    guard = app_ctx.guard
    service = app_ctx.verification

    def task_scope(*args: Any) -> tuple[str | None, ...]:
        task_id = args[3]
        try:
            return (service.repo.task(int(task_id)).grid_code,)
        except (KeyError, TypeError, ValueError, OverflowError):
            return ()

    def say(key: str, ok: bool, **params: object) -> html.Span:
        return message(t(key, app_ctx.lang(), **params), ok)

    @guard.callback(
        app,
        Output(ids.TASKS_MESSAGE, "children"),
        Output(ids.TASKS_LIST, "options"),
        Output(ids.TASKS_NOTE, "value"),
        Input(ids.TASKS_PASS, "n_clicks"),
        Input(ids.TASKS_FAIL, "n_clicks"),
        Input(ids.TASKS_UNREACHABLE, "n_clicks"),
        State(ids.TASKS_LIST, "value"),
        State(ids.TASKS_NOTE, "value"),
        action=Action.HANDLE_CASE,
        scope=task_scope,
        prevent_initial_call=True,
    )
    def complete(_p: int | None, _f: int | None, _u: int | None, task_id: Any, note: str | None) -> tuple[Any, ...]:
        """Record the chosen result on the selected task, or say what is missing."""
        lang = app_ctx.lang()
        principal = current_principal()
        assert principal is not None  # the guard let us in
        result = _BUTTONS.get(str(ctx.triggered_id))
        if result is None:
            return say("verification.error.bad_result", False), task_options(lang, _pending(app_ctx, principal)), note
        if task_id is None:
            return say("verification.error.need_task", False), task_options(lang, _pending(app_ctx, principal)), note
        try:
            done = service.complete(principal, int(task_id), result.value, note or "", request.remote_addr or "-")
        except VerificationError as exc:
            message = say(exc.key, False, id=task_id)
            return message, task_options(lang, _pending(app_ctx, principal)), note
        label = t(f"verification.{done.result.value if done.result else result.value}", lang)
        return (
            say("verification.done", True, id=done.id, result=label),
            task_options(lang, _pending(app_ctx, principal)),
            "",
        )

    @guard.callback(
        app,
        Output(ids.TASKS_PROGRESS, "children"),
        Input(ids.TASKS_REFRESH, "n_clicks"),
        action=Action.VIEW_CASES,
        prevent_initial_call=True,
    )
    def refresh(_n: int | None) -> Component:
        """Redraw the progress table."""
        lang = app_ctx.lang()
        principal = current_principal()
        assert principal is not None  # the guard let us in
        return progress_table(lang, _progress(app_ctx, principal))
