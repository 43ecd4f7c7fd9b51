"""The alert queue: the duty desk's list and the command center's ticker are the same panel.

The browser fills the list (assets/gw_alerts.js) from pushes and resyncs, one
``<li id="gw-alert-<id>" data-alert-id>`` per alert; this module only builds the container
and hands the browser the catalog strings it needs, since the browser code carries none.
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html
from dash.development.base_component import Component

from domain.alerts import AlertState, Severity
from domain.catalog import t
from layouts import ids

__all__ = ["SEVERITIES", "STATES", "alert_plumbing", "alert_queue", "alert_texts", "attrs", "sound_players"]

SEVERITIES: tuple[str, ...] = tuple(s.name.lower() for s in sorted(Severity, reverse=True))
STATES: tuple[str, ...] = tuple(s.value for s in AlertState if s is not AlertState.CLOSED)  # closed leaves the queue


def attrs(values: dict[str, str]) -> dict[str, Any]:
    """data-* and aria-* attributes, which Dash takes as keyword arguments its stubs do not declare."""
    return values


def alert_texts(lang: str) -> dict[str, object]:
    """The strings the browser shows in alert rows, with {placeholders} it fills in."""
    return {
        "severity": {s: t(f"severity.{s}", lang) for s in SEVERITIES},
        "state": {s.value: t(f"alert_state.{s.value}", lang) for s in AlertState},
        "owner": t("alert.owner", lang, owner="{owner}"),
        "dispatched_to": t("alert.dispatched_to", lang, to="{to}"),
        "count": t("alert.count", lang, count="{count}"),
        "escalates_in": t("alert.escalates_in", lang, time="{time}"),
        "escalation_due": t("alert.escalation_due", lang),
        "cleared": t("alert.cleared", lang),
        "selected": t("duty.selected", lang, id="{id}"),
        "select_hint": t("duty.select_hint", lang),
        "sound_on": t("duty.sound_on", lang),
        "sound_off": t("duty.sound_off", lang),
        "sound_blocked": t("duty.sound_blocked", lang),
        "lang": lang,
    }


def alert_queue(lang: str, *, title_key: str = "alerts.title", selectable: bool = False) -> html.Div:
    """Build the alert panel (id gw-alerts) with its empty list; rows are selectable on the duty desk."""
    return html.Div(
        [
            html.H2(t(title_key, lang), className="gw-panel-title"),
            html.Ul(
                id=ids.ALERT_QUEUE,
                className="gw-alert-items gw-alert-selectable" if selectable else "gw-alert-items",
                **attrs({"data-empty": t("alerts.empty", lang)}),
            ),
        ],
        id=ids.ALERTS,
        className="gw-alerts",
    )


def alert_plumbing(lang: str) -> list[Component]:
    """The stores the alert panel's browser code reads and writes."""
    return [dcc.Store(id=ids.ALERT_TEXTS, data=alert_texts(lang)), dcc.Store(id=ids.ALERT_SINK)]


def sound_players() -> html.Div:
    """One looping tone per severity, served by the app (assets/sounds/, made by scripts/make_sounds.py)."""
    return html.Div(
        [
            html.Audio(
                id=ids.SOUNDS[s],
                src=f"/assets/sounds/{s}.wav",
                loop=True,
                preload="auto",
                **attrs({"data-severity": s}),
            )
            for s in SEVERITIES
        ],
        className="gw-sounds",
    )
