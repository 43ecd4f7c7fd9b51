"""The shell every address gets: the page itself is filled in by the router (callbacks/page.py).

The shell knows, per user, which pages exist and which they may open, so the browser can say
"not for your role" or "no such page" at once, while the server never sends such a page.
"""

from __future__ import annotations

from collections.abc import Mapping

from dash import dcc, html

from domain.catalog import t
from layouts import ids

__all__ = ["page_shell"]


def page_shell(lang: str, *, role_name: str, access: Mapping[str, bool]) -> html.Div:
    """Build the shell for a user; ``access`` maps every page path to whether they may open it."""
    back = html.A(t("page.back", lang), href="/", className="gw-page-back")
    return html.Div(
        [
            dcc.Location(id=ids.PAGE_LOCATION, refresh=False),
            dcc.Store(id=ids.PAGE_ACCESS, data=dict(access)),
            html.Div(
                [html.P(t("page.refused", lang, role=role_name)), back],
                id=ids.PAGE_REFUSED,
                className="gw-page-notice",
                hidden=True,
            ),
            html.Div(
                [html.P(t("page.not_found", lang)), back], id=ids.PAGE_MISSING, className="gw-page-notice", hidden=True
            ),
            html.Div(id=ids.PAGE, className="gw-page"),
        ],
        className="gw-shell gw-dark",
        lang="zh-CN" if lang != "en" else "en",
    )
