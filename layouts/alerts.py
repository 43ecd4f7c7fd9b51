"""The alert list (filled by the alerts feature; empty until then)."""

from __future__ import annotations

from dash import html

from domain.catalog import t
from layouts import ids

__all__ = ["alert_list"]


def alert_list(lang: str) -> html.Div:
    """Build the alert panel with its empty state."""
    return html.Div(
        [
            html.H2(t("alerts.title", lang), className="gw-panel-title"),
            html.Ul([html.Li(t("alerts.empty", lang), className="gw-empty")], className="gw-alert-items"),
        ],
        id=ids.ALERTS,
        className="gw-alerts",
    )
