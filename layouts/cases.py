"""The cases page (/cases): the list, one case with its workflow actions, supervision, the scoreboard.

Light, for desks in the browser (the wall screens stay dark). The four panes are all in the
page and a class on the body shows one, so countdowns tick and lists refresh in all of them.
Callbacks (callbacks/cases.py) fill the tables with the builders below.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from dash import dcc, html
from dash.development.base_component import Component

from domain.cases import CaseAction
from domain.catalog import t
from domain.scoreboard import COLUMNS, display
from layouts import ids
from layouts.alerts import attrs
from layouts.header import page_header, status_plumbing
from layouts.live_socket import live_socket

__all__ = [
    "TABS",
    "case_detail",
    "case_list",
    "cases_page",
    "countdown",
    "hhmm",
    "overdue_list",
    "score_table",
]

TABS: tuple[str, ...] = ("list", "detail", "supervision", "scoreboard")
ROUTING = frozenset({CaseAction.DISPATCH, CaseAction.REASSIGN})  # actions that need a grid / department


def hhmm(seconds: float) -> str:
    """A duration as hours:minutes (hours may pass 24), as the browser's countdown draws it.

    >>> hhmm(3 * 3600 + 125), hhmm(59)
    ('03:02', '00:00')
    """
    minutes = int(abs(seconds)) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def countdown(lang: str, due_at: str | None, seconds_left: int | None) -> html.Span:
    """A deadline the browser keeps counting down (``data-due``); red once passed."""
    if due_at is None or seconds_left is None:
        return html.Span(t("cases.due.none", lang), className="gw-due gw-due-none")
    over = seconds_left < 0
    text = t("cases.due.over" if over else "cases.due.left", lang, time=hhmm(seconds_left))
    return html.Span(text, className="gw-due gw-overdue" if over else "gw-due", **attrs({"data-due": due_at}))


def _labelled(lang: str, key: str, control: Component) -> html.Label:
    return html.Label([html.Span(t(key, lang), className="gw-field-label"), control], className="gw-field")


def _head(lang: str, keys: Sequence[str]) -> html.Thead:
    return html.Thead(html.Tr([html.Th(t(k, lang)) for k in keys]))


# -- list -------------------------------------------------------------------------------------------
def case_list(lang: str, cases: Sequence[Mapping[str, Any]], selected: int | None) -> Component:
    """The table of cases; each row selects its case (``data-case-id``)."""
    if not cases:
        return html.P(t("cases.empty", lang), className="gw-empty")
    rows = [
        html.Tr(
            [
                html.Td(f"#{c['id']}"),
                html.Td(c["category"]),
                html.Td(c["unit_name"], title=c["unit_code"]),
                html.Td(t(f"case_state.{c['state']}", lang), className=f"gw-state gw-state-{c['state']}"),
                html.Td(c["assignee"] or "—"),
                html.Td(countdown(lang, c["due_at"], c["seconds_left"])),
            ],
            id={"type": ids.CASE_ROW, "id": c["id"]},
            n_clicks=0,
            className="gw-case-row gw-selected" if c["id"] == selected else "gw-case-row",
            **attrs({"data-case-id": str(c["id"]), "data-state": c["state"]}),
        )
        for c in cases
    ]
    keys = ("cases.col.id", "cases.col.category", "cases.col.unit", "cases.col.state", "cases.col.assignee")
    return html.Table([_head(lang, (*keys, "cases.col.deadline")), html.Tbody(rows)], className="gw-table")


def _list_pane(lang: str, states: Sequence[str], categories: Sequence[tuple[str, str]]) -> html.Section:
    filters = html.Div(
        [
            _labelled(
                lang,
                "cases.filter.state",
                dcc.Dropdown(
                    id=ids.CASES_FILTER_STATE,
                    options=[{"label": t(f"case_state.{s}", lang), "value": s} for s in states],
                    multi=True,
                    placeholder=t("cases.filter.all", lang),
                ),
            ),
            _labelled(
                lang,
                "cases.filter.category",
                dcc.Dropdown(
                    id=ids.CASES_FILTER_CATEGORY,
                    options=[{"label": name, "value": code} for code, name in categories],
                    multi=True,
                    placeholder=t("cases.filter.all", lang),
                ),
            ),
            dcc.Checklist(
                id=ids.CASES_FILTER_FLAGS,
                options=[
                    {"label": t("cases.filter.overdue", lang), "value": "overdue"},
                    {"label": t("cases.filter.open", lang), "value": "open"},
                ],
                value=[],
                inline=True,
                className="gw-checklist",
            ),
        ],
        className="gw-cases-filters",
    )
    pager = html.Div(
        [
            html.Button(t("cases.prev", lang), id=ids.CASES_PREV, n_clicks=0, className="gw-button"),
            html.Span(id=ids.CASES_PAGE_LABEL, className="gw-page-label"),
            html.Button(t("cases.next", lang), id=ids.CASES_NEXT, n_clicks=0, className="gw-button"),
        ],
        className="gw-pager",
    )
    return html.Section([filters, html.Div(id=ids.CASES_LIST), pager], className="gw-pane gw-pane-list")


# -- detail -----------------------------------------------------------------------------------------
def case_detail(
    lang: str, case: Mapping[str, Any], steps: Sequence[Mapping[str, Any]], photos: Sequence[Mapping[str, Any]]
) -> Component:
    """One case: what, where, who owes what by when, every step so far and the photos."""
    where = case["address"] or ""
    if case["lon"] is not None and case["lat"] is not None:
        where = f"{where} ({case['lon']:.5f}, {case['lat']:.5f})".strip()
    facts = [
        (t("cases.detail.location", lang), f"{case['unit_name']} · {where or t('cases.detail.no_location', lang)}"),
        (t("cases.detail.department", lang), case["department_name"]),
        (t("cases.detail.source", lang), t(f"cases.source.{case['source']}", lang)),
        (t("cases.col.assignee", lang), case["assignee"] or "—"),
        (t("cases.col.created", lang), case["created_local"]),
    ]
    badges = [html.Span(t(f"case_state.{case['state']}", lang), className=f"gw-state gw-state-{case['state']}")]
    badges.append(countdown(lang, case["due_at"], case["seconds_left"]))
    if case["reopen_count"]:
        badges.append(html.Span(t("cases.detail.reopens", lang, count=case["reopen_count"]), className="gw-badge"))
    if case["satisfaction"] is not None:
        badges.append(html.Span(t("cases.detail.satisfaction", lang, score=case["satisfaction"]), className="gw-badge"))
    step_rows = [
        html.Tr(
            [
                html.Td(s["when"]),
                html.Td(s["actor"]),
                html.Td(t(f"case_action.{s['action']}" if s["action"] != "collect" else "cases.step.collect", lang)),
                html.Td(s["note"]),
                html.Td(
                    "—" if s["on_time"] is None else t("cases.step.yes" if s["on_time"] else "cases.step.no", lang),
                    className="" if s["on_time"] is not False else "gw-late",
                ),
            ],
            className="gw-step",
        )
        for s in steps
    ]
    step_keys = ("cases.step.when", "cases.step.who", "cases.step.action", "cases.step.note", "cases.step.on_time")
    pictures: list[Component] = [
        html.A(html.Img(src=p["url"], alt=f"#{case['id']}-{p['id']}", className="gw-photo"), href=p["url"])
        for p in photos
    ] or [html.P(t("cases.detail.no_photos", lang), className="gw-empty")]
    return html.Article(
        [
            html.H2([t("cases.detail.title", lang, id=case["id"]), html.Span(f" · {case['category']}")]),
            html.Div(badges, className="gw-badges"),
            html.H3(t("cases.detail.description", lang)),
            html.P(case["description"], className="gw-description"),
            html.Dl([item for k, v in facts for item in (html.Dt(k), html.Dd(v))], className="gw-facts"),
            html.H3(t("cases.detail.steps", lang)),
            html.Table([_head(lang, step_keys), html.Tbody(step_rows)], className="gw-table gw-steps"),
            html.H3(t("cases.detail.photos", lang)),
            html.Div(pictures, className="gw-photos"),
        ],
        className="gw-case",
        **attrs({"data-case-id": str(case["id"]), "data-state": case["state"], "data-version": str(case["version"])}),
    )


def _detail_pane(lang: str, departments: Sequence[tuple[str, str]]) -> html.Section:
    buttons = [
        html.Button(
            t(f"case_action.{a.value}", lang),
            id=ids.case_action(a.value),
            n_clicks=0,
            className=f"gw-button gw-case-action gw-case-action-{a.value}",
        )
        for a in CaseAction
    ]
    fields = html.Div(
        [
            dcc.Textarea(id=ids.CASE_NOTE, placeholder=t("cases.note", lang), maxLength=2000, className="gw-case-note"),
            html.Div(
                [
                    dcc.Input(
                        id=ids.CASE_GRID, type="text", placeholder=t("cases.grid", lang), maxLength=24, debounce=False
                    ),
                    dcc.Dropdown(
                        id=ids.CASE_DEPARTMENT,
                        options=[{"label": name, "value": code} for code, name in departments],
                        placeholder=t("cases.department", lang),
                    ),
                    dcc.Input(id=ids.CASE_ASSIGNEE, type="text", placeholder=t("cases.assignee", lang), maxLength=64),
                ],
                className="gw-case-field gw-case-field-route",
            ),
            html.Div(
                dcc.Dropdown(
                    id=ids.CASE_SATISFACTION,
                    options=[{"label": str(n), "value": n} for n in range(5, 0, -1)],
                    placeholder=t("cases.satisfaction", lang),
                ),
                className="gw-case-field gw-case-field-evaluate",
            ),
        ],
        className="gw-case-fields",
    )
    bar = html.Aside(
        [
            html.H3(t("cases.actions", lang)),
            fields,
            html.Div(buttons, className="gw-case-buttons"),
            html.Div(id=ids.CASE_MESSAGE, className="gw-case-message", role="status", **attrs({"aria-live": "polite"})),
        ],
        id=ids.CASE_ACTIONBAR,
        className="gw-case-actionbar",
    )
    detail = html.Div(html.P(t("cases.select_hint", lang), className="gw-empty"), id=ids.CASE_DETAIL)
    return html.Section([detail, bar], className="gw-pane gw-pane-detail")


# -- supervision ------------------------------------------------------------------------------------
def overdue_list(lang: str, cases: Sequence[Mapping[str, Any]]) -> Component:
    """Overdue cases, most overdue first, with the unit that owes the step and how long it is late."""
    if not cases:
        return html.P(t("cases.overdue.empty", lang), className="gw-empty")
    rows = [
        html.Tr(
            [
                html.Td(f"#{c['id']}"),
                html.Td(c["category"]),
                html.Td(c["responsible_name"], title=c["responsible"]),
                html.Td(t(f"case_state.{c['state']}", lang), className=f"gw-state gw-state-{c['state']}"),
                html.Td(c["assignee"] or "—"),
                html.Td(countdown(lang, c["due_at"], c["seconds_left"])),
            ],
            className="gw-overdue-row",
            **attrs({"data-case-id": str(c["id"])}),
        )
        for c in cases
    ]
    keys = ("cases.col.id", "cases.col.category", "cases.col.responsible", "cases.col.state", "cases.col.assignee")
    return html.Table([_head(lang, (*keys, "cases.col.overdue_by")), html.Tbody(rows)], className="gw-table")


# -- scoreboard -------------------------------------------------------------------------------------
def score_table(lang: str, by: str, rows: Sequence[Mapping[str, Any]], sort: str, order: str) -> Component:
    """The scoreboard; a click on a header sorts by that column (again: the other way)."""
    arrow = {"desc": " ▼", "asc": " ▲"}[order]
    head = html.Thead(
        html.Tr(
            [
                html.Th(
                    html.Button(
                        t(c.label(by), lang) + (arrow if c.key == sort else ""),
                        id={"type": ids.SCOREBOARD_SORT_BY, "key": c.key},
                        n_clicks=0,
                        className="gw-sort",
                    ),
                    **attrs({"data-key": c.key}),
                )
                for c in COLUMNS
            ]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [html.Td(display(r[c.key], c.fmt), **attrs({"data-key": c.key})) for c in COLUMNS],
                **attrs({"data-row": str(r["key"])}),
            )
            for r in rows
        ]
    )
    table = html.Table([head, body], className="gw-table gw-score-table")
    return html.Div([table, html.P(t("score.empty", lang), className="gw-empty")] if not rows else table)


def _score_pane(
    lang: str,
    units: Sequence[tuple[str, str]],
    home: tuple[str, str],
    period: tuple[date, date],
    may_export: bool,
    weights: Mapping[str, float],
) -> html.Section:
    controls = html.Div(
        [
            _labelled(
                lang,
                "score.by",
                dcc.RadioItems(
                    id=ids.SCOREBOARD_BY,
                    options=[{"label": t(f"score.by.{b}", lang), "value": b} for b in ("worker", "unit")],
                    value="worker",
                    inline=True,
                ),
            ),
            _labelled(
                lang,
                "score.unit",
                dcc.Dropdown(
                    id=ids.SCOREBOARD_UNIT,
                    options=[{"label": label, "value": code} for code, label in (home, *units)],
                    value=home[0],
                    clearable=False,
                ),
            ),
            _labelled(
                lang,
                "score.period",
                dcc.DatePickerRange(
                    id=ids.SCOREBOARD_PERIOD,
                    start_date=period[0].isoformat(),
                    end_date=period[1].isoformat(),
                    display_format="YYYY-MM-DD",
                    first_day_of_week=1,
                ),
            ),
            html.A(
                t("score.export", lang),
                id=ids.SCOREBOARD_EXPORT,
                href="",
                className="gw-button gw-export",
                hidden=not may_export,
            ),
        ],
        className="gw-score-controls",
    )
    return html.Section(
        [
            html.H2(t("score.title", lang)),
            controls,
            html.P(t("score.weights", lang, **{k: f"{v:g}" for k, v in weights.items()}), className="gw-note"),
            dcc.Store(id=ids.SCOREBOARD_SORT, data={"key": "score", "order": "desc"}),
            html.Div(id=ids.SCOREBOARD),
        ],
        className="gw-pane gw-pane-scoreboard",
    )


# -- the page ---------------------------------------------------------------------------------------
def cases_page(
    lang: str,
    *,
    home_name: str,
    user_label: str,
    may_open: Sequence[str],
    states: Sequence[str],
    categories: Sequence[tuple[str, str]],
    departments: Sequence[tuple[str, str]],
    units: Sequence[tuple[str, str]],
    home: tuple[str, str],
    period: tuple[date, date],
    may_export: bool,
    weights: Mapping[str, float],
) -> html.Div:
    """Build the cases page for a user; ``units`` are (code, label) areas below ``home`` to score."""
    header = page_header(
        lang,
        home_name=home_name,
        user_label=user_label,
        breadcrumb=[
            html.A(home_name, href="/", className="gw-crumb"),
            html.Span("›", className="gw-crumb-sep"),
            html.Span(t("cases.title", lang), className="gw-crumb-current"),
        ],
        current="/cases",
        may_open=may_open,
    )
    tabs = dcc.Tabs(
        id=ids.CASES_TABS,
        value="list",
        children=[dcc.Tab(label=t(f"cases.tab.{k}", lang), value=k, id=f"{ids.CASES_TABS}-{k}") for k in TABS],
        className="gw-cases-tabs",
    )
    texts = {"left": t("cases.due.left", lang, time="{time}"), "over": t("cases.due.over", lang, time="{time}")}
    body = html.Main(
        [
            _list_pane(lang, states, categories),
            _detail_pane(lang, departments),
            html.Section(
                [html.H2(t("cases.overdue.title", lang)), html.Div(id=ids.CASES_OVERDUE)],
                className="gw-pane gw-pane-supervision",
            ),
            _score_pane(lang, units, home, period, may_export, weights),
        ],
        id=ids.CASES_BODY,
        className="gw-cases-body gw-tab-list",
    )
    return html.Div(
        [
            *status_plumbing(lang, 0),  # the badge says whether the server is reachable
            live_socket([]),  # nothing pushed here yet: lists are re-queried
            dcc.Interval(id=ids.CASES_TICK, interval=1000),
            dcc.Interval(id=ids.CASES_REFRESH, interval=5000),
            dcc.Store(id=ids.CASES_TEXTS, data=texts),
            dcc.Store(id=ids.CASES_SINK),
            dcc.Store(id=ids.CASES_PAGE_NO, data=0),
            dcc.Store(id=ids.CASES_PAGE_COUNT, data=1),
            dcc.Store(id=ids.CASE_SELECTED),
            dcc.Store(id=ids.CASE_SHOWN),
            dcc.Store(id=ids.CASE_RESULT),
            header,
            tabs,
            body,
        ],
        id=ids.CASES_ROOT,
        className="gw-root gw-light gw-cases",
        lang="zh-CN" if lang != "en" else "en",
    )
