"""The page for the user of the request: their unit, their name, their first map view."""

from __future__ import annotations

from collections.abc import Callable

from dash import html

from callbacks.live_map import selection_for
from domain.catalog import t
from layouts.command_center import command_center
from runtime.context import AppContext
from security.guards import current_principal

__all__ = ["layout_for"]


def layout_for(app_ctx: AppContext) -> Callable[[], html.Div]:
    """Return the layout function Dash calls on each page load."""
    s = app_ctx.settings
    h = app_ctx.hierarchy

    def layout() -> html.Div:
        principal = current_principal()
        if principal is None:  # Dash validating at start-up; the gate never serves this to a visitor
            return html.Div(id="gw-root")
        home = h.get(principal.unit_code)
        record = app_ctx.accounts.users.by_id(principal.user_id)
        name = record.display_name if record else principal.username
        label = t("nav.user", s.language, name=name, role=t(f"role.{principal.role.value}", s.language))
        return command_center(
            s.language,
            home_name=home.name,
            bounds=h.bounds(home.code),
            window_minutes=s.window_minutes,
            user_label=label,
            first_selection=selection_for(app_ctx, principal, None),
            tile_url=s.tile_url,
        )

    return layout
