"""The map legend."""

from __future__ import annotations

from dash import html

from domain.catalog import t
from domain.levels import legend
from layouts import ids

__all__ = ["map_legend"]


def map_legend(lang: str, window_minutes: int) -> html.Div:
    """Build the legend: one swatch per colour level."""
    rows = []
    for entry in legend():
        if entry.upper is None:
            text = t("legend.open", lang, lower=f"{entry.lower:g}")
        else:
            text = t("legend.range", lang, lower=f"{entry.lower:g}", upper=f"{entry.upper:g}")
        rows.append(
            html.Div(
                [html.Span(className="gw-swatch", style={"background": entry.colour}), html.Span(text)],
                className="gw-legend-row",
            )
        )
    title = html.Div(t("legend.title", lang, minutes=window_minutes), className="gw-legend-title")
    return html.Div([title, *rows], id=ids.LEGEND, className="gw-legend")
