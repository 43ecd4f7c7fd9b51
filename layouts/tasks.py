"""The verification tasks page (/tasks): a phone-sized list for the grid worker, a progress table for staff."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dash import dcc, html
from dash.development.base_component import Component

from domain.catalog import t
from domain.verification import Progress
from layouts import ids
from layouts.alerts import attrs
from layouts.header import page_header

__all__ = ["ProgressRow", "TaskOption", "progress_table", "task_options", "tasks_page"]


@dataclass(frozen=True, slots=True)
class TaskOption:
    """A pending task as the worker's list shows it (the subject already masked as the viewer may see it)."""

    id: int
    batch: str
    deadline: str
    subject: str
    address: str
    overdue: bool


@dataclass(frozen=True, slots=True)
class ProgressRow:
    """One line of the progress table: a batch on one grid (``grid`` empty: the batch's total)."""

    batch_id: int
    batch: str
    deadline: str
    grid: str
    progress: Progress


def task_options(lang: str, tasks: Sequence[TaskOption]) -> list[dict[str, object]]:
    """The radio items of the worker's list."""
    out: list[dict[str, object]] = []
    for task in tasks:
        due = t("verification.deadline", lang, deadline=task.deadline)
        late = [html.Span(t("verification.overdue", lang), className="gw-tasks-late")] if task.overdue else []
        label = html.Div(
            [
                html.Div([html.Strong(f"#{task.id} {task.batch}"), *late], className="gw-tasks-head"),
                html.Div(task.subject, className="gw-tasks-subject"),
                html.Div(task.address, className="gw-tasks-address"),
                html.Div(due, className="gw-tasks-due"),
            ],
            className="gw-tasks-item",
        )
        out.append({"label": label, "value": task.id})
    return out


def _worker_section(lang: str, tasks: Sequence[TaskOption], *, hidden: bool) -> html.Section:
    return html.Section(
        [
            html.H2(t("verification.my_tasks", lang), className="gw-panel-title"),
            dcc.RadioItems(
                id=ids.TASKS_LIST,
                options=task_options(lang, tasks),
                value=None,
                className="gw-tasks-list",
                labelClassName="gw-tasks-choice",
            ),
            html.P(t("verification.none_pending", lang), className="gw-tasks-empty", hidden=bool(tasks)),
            dcc.Textarea(
                id=ids.TASKS_NOTE, placeholder=t("verification.note", lang), maxLength=2000, className="gw-tasks-note"
            ),
            html.Div(
                [
                    html.Button(t("verification.pass", lang), id=ids.TASKS_PASS, className="gw-action gw-tasks-pass"),
                    html.Button(t("verification.fail", lang), id=ids.TASKS_FAIL, className="gw-action gw-tasks-fail"),
                    html.Button(t("verification.unreachable", lang), id=ids.TASKS_UNREACHABLE, className="gw-action"),
                ],
                className="gw-tasks-buttons",
            ),
            html.Div(
                id=ids.TASKS_MESSAGE, className="gw-tasks-message", role="status", **attrs({"aria-live": "polite"})
            ),
        ],
        className="gw-tasks-mine",
        hidden=hidden,
    )


def progress_table(lang: str, rows: Sequence[ProgressRow]) -> Component:
    """The per-batch, per-grid progress table (done/total; overdue counts in red)."""
    if not rows:
        return html.P(t("verification.no_batches", lang), className="gw-tasks-empty")
    cols = ("batch", "deadline", "grid", "done", "passed", "failed", "unreachable", "overdue")
    head = html.Thead(html.Tr([html.Th(t(f"verification.col.{c}", lang)) for c in cols]))
    body = []
    for row in rows:
        p = row.progress
        total = not row.grid
        body.append(
            html.Tr(
                [
                    html.Td(row.batch if total else ""),
                    html.Td(row.deadline if total else ""),
                    html.Td(row.grid or t("verification.all_grids", lang)),
                    html.Td(f"{p.done}/{p.total}"),
                    html.Td(str(p.passed)),
                    html.Td(str(p.failed)),
                    html.Td(str(p.unreachable)),
                    html.Td(str(p.overdue), className="gw-tasks-overdue" if p.overdue else ""),
                ],
                className="gw-tasks-batch-row" if total else "gw-tasks-grid-row",
                **attrs({"data-batch": str(row.batch_id)}),
            )
        )
    return html.Table([head, html.Tbody(body)], className="gw-tasks-table")


def tasks_page(
    lang: str,
    *,
    home_name: str,
    user_label: str,
    may_open: Sequence[str],
    worker_tasks: Sequence[TaskOption] | None,
    progress: Sequence[ProgressRow],
) -> html.Div:
    """Build /tasks; ``worker_tasks`` None for people who watch rather than visit (list and buttons hidden).

    The worker's controls are always there, hidden for watchers: Dash checks every callback
    against the page, and the server refuses a watcher's completion anyway.
    """
    header = page_header(
        lang,
        home_name=home_name,
        user_label=user_label,
        breadcrumb=[
            html.A(home_name, href="/", className="gw-crumb"),
            html.Span("›", className="gw-crumb-sep"),
            html.Span(t("verification.title", lang), className="gw-crumb-current"),
        ],
        current="/tasks",
        may_open=may_open,
    )
    sections: list[Component] = [_worker_section(lang, worker_tasks or [], hidden=worker_tasks is None)]
    sections.append(
        html.Section(
            [
                html.Div(
                    [
                        html.H2(t("verification.progress", lang), className="gw-panel-title"),
                        html.Button(t("verification.refresh", lang), id=ids.TASKS_REFRESH, className="gw-action"),
                    ],
                    className="gw-tasks-watch-head",
                ),
                html.Div(progress_table(lang, progress), id=ids.TASKS_PROGRESS, className="gw-tasks-progress"),
            ],
            className="gw-tasks-watch",
        )
    )
    return html.Div(
        [
            # No socket: a socket here would fire the map's and the alert queue's callbacks at
            # components this page does not have. The table is redrawn on request.
            header,
            html.Main(sections, className="gw-tasks-body"),
        ],
        id=ids.ROOT,
        className="gw-root gw-dark gw-tasks",
        lang="zh-CN" if lang != "en" else "en",
    )
