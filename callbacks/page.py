"""Pages: the shell for the user of the request, and the router that fills it for the address.

Every address gets the same shell (layouts/shell.py). The router, a guarded callback on the
address, builds the page for the user: their unit, their name, their first view. A page the
user's role may not open is refused on the server (audited, nothing sent); the shell already
knows and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dash import ClientsideFunction, Dash, Input, Output, State, html
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate

from callbacks import cases, duty, leader, report, tasks, wall
from callbacks.live_map import command_center_for
from domain.catalog import t
from domain.permissions import Action, Principal, Role, allowed
from layouts import ids
from layouts.shell import page_shell
from runtime.context import AppContext
from security.guards import current_principal

__all__ = ["PAGES", "Page", "layout_for", "register", "validation_layout"]

Build = Callable[..., Component]  # (app_ctx, principal, *, home_name, user_label, may_open) -> page


@dataclass(frozen=True, slots=True)
class Page:
    """A page: its address, the action a user needs to open it, and how it is built for them."""

    path: str
    action: Action
    build: Build


PAGES: tuple[Page, ...] = (
    Page("/", Action.VIEW_MAP, command_center_for),
    Page("/duty", Action.ACK_ALERT, duty.page_for),  # the people who act on alerts
    Page("/wall", Action.VIEW_KPIS, wall.page_for),  # the wall of screens: large type, trends, rotation
    Page("/leader", Action.VIEW_KPIS, leader.page_for),  # leaders and staff: drill-down, figures, trends
    Page("/cases", Action.VIEW_CASES, cases.page_for),  # cases, supervision, the scoreboard
    Page("/tasks", Action.VIEW_CASES, tasks.page_for),  # verification tasks: grid workers visit, staff watch
    Page("/report", Action.REPORT, report.page_for),  # grid workers and community staff, on the phone
)
_BY_PATH = {p.path: p for p in PAGES}


def _may_open(principal: Principal) -> dict[str, bool]:
    return {p.path: allowed(principal, p.action) for p in PAGES}


def layout_for(app_ctx: AppContext) -> Callable[[], html.Div]:
    """Return the layout function Dash calls on each page load: the shell for this user."""

    def layout() -> html.Div:
        lang = app_ctx.lang()
        principal = current_principal()
        if principal is None:  # Dash validating at start-up; the gate never serves this to a visitor
            return html.Div(id=ids.PAGE)
        role = t(f"role.{principal.role.value}", lang)
        return page_shell(lang, role_name=role, access=_may_open(principal))

    return layout


def validation_layout(app_ctx: AppContext) -> html.Div:
    """Every component any page can hold, for Dash to check callbacks against (pages arrive after load)."""
    lang = app_ctx.settings.language
    city = app_ctx.hierarchy.city
    everyone = Principal(0, "", Role.CITY_ADMIN, city.code)
    pages = [
        p.build(app_ctx, everyone, home_name=city.name, user_label="", may_open=[q.path for q in PAGES]) for p in PAGES
    ]
    return html.Div([page_shell(lang, role_name="", access={}), *pages])


def register(app: Dash, app_ctx: AppContext) -> None:
    """Wire the router and the shell's notices."""
    guard = app_ctx.guard
    h = app_ctx.hierarchy

    app.clientside_callback(
        ClientsideFunction("gw_pages", "onPath"),
        Output(ids.PAGE_REFUSED, "hidden"),
        Output(ids.PAGE_MISSING, "hidden"),
        Input(ids.PAGE_LOCATION, "pathname"),
        State(ids.PAGE_ACCESS, "data"),
    )

    @guard.callback(app, Output(ids.PAGE, "children"), Input(ids.PAGE_LOCATION, "pathname"), action=Action.VIEW_MAP)
    def route(pathname: str | None) -> Component:
        """Build the page at this address for the user, if their role may open it."""
        lang = app_ctx.lang()
        principal = current_principal()
        assert principal is not None  # the guard let us in
        page = _BY_PATH.get((pathname or "").rstrip("/") or "/") if pathname else None
        if page is None:
            raise PreventUpdate  # no such page: the shell says so
        if not allowed(principal, page.action):
            guard.refuse(principal, f"page:{page.path}", "action", {"action": page.action.value})
            raise PreventUpdate
        record = app_ctx.accounts.users.by_id(principal.user_id)
        name = record.display_name if record else principal.username
        label = t("nav.user", lang, name=name, role=t(f"role.{principal.role.value}", lang))
        may_open = [path for path, ok in _may_open(principal).items() if ok]
        return page.build(
            app_ctx, principal, home_name=h.get(principal.unit_code).name, user_label=label, may_open=may_open
        )
