"""The duty desk (/duty): the alert queue with filters, the action bar, sound and escalation countdowns."""

from __future__ import annotations

from collections.abc import Sequence

from dash import dcc, html
from dash.development.base_component import Component

from domain.catalog import t
from layouts import ids
from layouts.alerts import SEVERITIES, STATES, alert_plumbing, alert_queue, attrs, sound_players
from layouts.header import page_header, status_plumbing
from layouts.live_socket import live_socket

__all__ = ["duty_desk"]


def _filters(lang: str, units: Sequence[tuple[str, str]]) -> html.Section:
    def labelled(key: str, control: Component) -> html.Div:
        return html.Div([html.Span(t(key, lang), className="gw-filter-label"), control], className="gw-filter")

    return html.Section(
        [
            labelled(
                "duty.filter.severity",
                dcc.Checklist(
                    id=ids.ALERT_FILTER_SEVERITY,
                    options=[{"label": t(f"severity.{s}", lang), "value": s} for s in SEVERITIES],
                    value=list(SEVERITIES),
                    inline=True,
                    className="gw-checklist",
                ),
            ),
            labelled(
                "duty.filter.state",
                dcc.Checklist(
                    id=ids.ALERT_FILTER_STATE,
                    options=[{"label": t(f"alert_state.{s}", lang), "value": s} for s in STATES],
                    value=list(STATES),
                    inline=True,
                    className="gw-checklist",
                ),
            ),
            labelled(
                "duty.filter.unit",
                dcc.Dropdown(
                    id=ids.ALERT_FILTER_UNIT,
                    options=[{"label": label, "value": code} for code, label in units],
                    placeholder=t("duty.filter.all_units", lang),
                    clearable=True,
                    className="gw-unit-filter",
                ),
            ),
            html.Button(t("duty.sound_on", lang), id=ids.SOUND_TOGGLE, className="gw-sound-toggle", n_clicks=0),
        ],
        className="gw-duty-filters",
    )


def _actions(lang: str) -> html.Aside:
    return html.Aside(
        [
            html.H2(t("duty.title", lang), className="gw-panel-title"),
            html.Div(t("duty.select_hint", lang), id=ids.ALERT_SELECTED_LABEL, className="gw-selected-label"),
            dcc.Textarea(
                id=ids.ALERT_COMMENT, placeholder=t("duty.comment", lang), maxLength=2000, className="gw-comment"
            ),
            dcc.Input(
                id=ids.ALERT_DISPATCH_TO,
                type="text",
                placeholder=t("duty.dispatch_to", lang),
                maxLength=128,
                className="gw-dispatch-to",
            ),
            html.Div(
                [
                    html.Button(t("duty.ack", lang), id=ids.ALERT_ACK, className="gw-action gw-action-ack"),
                    html.Button(t("duty.dispatch", lang), id=ids.ALERT_DISPATCH, className="gw-action"),
                    html.Button(t("duty.resolve", lang), id=ids.ALERT_RESOLVE, className="gw-action"),
                ],
                className="gw-action-buttons",
            ),
            html.Div(
                id=ids.ALERT_MESSAGE, className="gw-alert-message", role="status", **attrs({"aria-live": "polite"})
            ),
        ],
        className="gw-duty-actions",
    )


def duty_desk(
    lang: str,
    *,
    home_name: str,
    user_label: str,
    units: Sequence[tuple[str, str]],
    may_open: Sequence[str],
) -> html.Div:
    """Build the duty desk for a user; ``units`` are (code, label) of the areas they may filter by."""
    header = page_header(
        lang,
        home_name=home_name,
        user_label=user_label,
        breadcrumb=[
            html.A(home_name, href="/", className="gw-crumb"),
            html.Span("›", className="gw-crumb-sep"),
            html.Span(t("duty.title", lang), className="gw-crumb-current"),
        ],
        current="/duty",
        may_open=may_open,
    )
    body = html.Main(
        [_filters(lang, units), alert_queue(lang, title_key="duty.queue", selectable=True), _actions(lang)],
        className="gw-duty-body",
    )
    return html.Div(
        [
            *status_plumbing(lang, 0),  # alerts are quiet when nothing happens: connected is live
            *alert_plumbing(lang),
            dcc.Store(id=ids.ALERT_SELECTED),
            dcc.Store(id=ids.ALERT_RESULT),
            dcc.Store(id=ids.ALERT_FILTER_GRIDS),
            live_socket(["alerts"]),
            sound_players(),
            header,
            body,
        ],
        id=ids.ROOT,
        className="gw-root gw-dark gw-duty",
        lang="zh-CN" if lang != "en" else "en",
    )
