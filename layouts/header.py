"""The header every page shares: title, where you are, the pages you may open, status, who you are."""

from __future__ import annotations

from collections.abc import Sequence

from dash import dcc, html
from dash.development.base_component import Component

from domain.catalog import t
from layouts import ids

__all__ = ["page_header", "status_plumbing"]

# (path, catalog key) of the pages, in menu order
NAV_PAGES: tuple[tuple[str, str], ...] = (
    ("/", "nav.wall"),
    ("/wall", "nav.wall_screen"),
    ("/leader", "nav.leader"),
    ("/duty", "nav.duty"),
    ("/cases", "cases.nav"),
    ("/tasks", "nav.tasks"),
    ("/report", "report.nav"),
)


def page_header(
    lang: str,
    *,
    home_name: str,
    user_label: str,
    breadcrumb: Sequence[Component],
    current: str,
    may_open: Sequence[str],
) -> html.Header:
    """Build the header; ``may_open`` lists the page paths shown in the menu (the ones this user may open)."""
    links = [
        html.A(
            t(key, lang),
            href=path,
            className="gw-nav-link gw-nav-current" if path == current else "gw-nav-link",
        )
        for path, key in NAV_PAGES
        if path in may_open
    ]
    return html.Header(
        [
            html.H1([t("app.title", lang), html.Span(f" · {home_name}", className="gw-city")]),
            html.Nav(list(breadcrumb), id=ids.BREADCRUMB, className="gw-breadcrumb"),
            html.Nav(links, id=ids.NAV, className="gw-nav"),
            html.Div(t("status.connecting", lang), id=ids.STATUS, className="gw-status gw-status-stale"),
            html.A(
                t("nav.lang_switch", lang),
                href=f"/lang/{'zh-CN' if lang == 'en' else 'en'}?next={current}",
                id=ids.LANG_SWITCH,
                className="gw-lang-switch",
            ),
            html.Span(user_label, className="gw-user"),
            html.Form(
                html.Button(t("nav.logout", lang), type="submit"),
                action="/logout",
                method="POST",
                className="gw-logout",
            ),
        ],
        className="gw-header",
    )


def status_plumbing(lang: str, fresh_ms: int) -> list[Component]:
    """What the status badge needs: a tick, its texts, and how fresh data must be to count as live.

    ``fresh_ms`` 0: live means connected (a page whose feed is quiet when nothing happens).
    """
    return [
        dcc.Interval(id=ids.STATUS_TICK, interval=1000),  # re-judges staleness; no server round trip
        # Status texts travel as data so the browser code carries no user-facing strings.
        dcc.Store(id=ids.STATUS_TEXT_LIVE, data=t("status.live", lang)),
        dcc.Store(id=ids.STATUS_TEXT_STALE, data=t("status.stale", lang, since="{since}")),
        dcc.Store(id=ids.STATUS_FRESH_MS, data=fresh_ms),
    ]
