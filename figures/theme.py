"""One look for every chart: dark on the wall screen, light in the browser, fonts that exist offline.

Colours are constants here and nowhere else; nothing is fetched (the wall screen has no internet).
A small template of our own replaces plotly's default one, which would add kilobytes to every figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

__all__ = [
    "BAD_COLOUR",
    "FONT_FAMILY",
    "GRAPH_CONFIG",
    "HEALTH_CODE_COLOURS",
    "PALETTE",
    "SCORE_COLOURS",
    "THEMES",
    "ThemeColours",
    "empty_figure",
    "figure",
    "theme_colours",
]

THEMES: tuple[str, ...] = ("light", "dark")

# System fonts only: a web font would not load on the offline wall screen.
FONT_FAMILY = '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif'

# What a dcc.Graph showing these figures should pass as `config`.
GRAPH_CONFIG: Mapping[str, bool] = {"displaylogo": False, "displayModeBar": False}

# Categorical series, in order; readable on both the dark and the light background.
PALETTE: tuple[str, ...] = (
    "#4cc9f0",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#b07aa1",
    "#edc948",
    "#76b7b2",
    "#ff9da7",
    "#9c755f",
    "#7f8fd6",
)

_GREEN, _YELLOW, _RED = "#2e7d32", "#f9a825", "#c62828"
HEALTH_CODE_COLOURS: Mapping[str, str] = {"green": _GREEN, "yellow": _YELLOW, "red": _RED}
# Satisfaction scores 1 (worst) .. 5 (best).
SCORE_COLOURS: tuple[str, ...] = (_RED, "#ef6c00", _YELLOW, "#7cb342", _GREEN)
# What went wrong: missed check-ins.
BAD_COLOUR = _RED


@dataclass(frozen=True, slots=True)
class ThemeColours:
    """The neutral colours of one theme; series colours are the same in both."""

    text: str
    muted: str
    grid: str
    line: str
    hover: str


_COLOURS: Mapping[str, ThemeColours] = {
    # Matches assets/gw.css (--gw-text, --gw-dim, --gw-line, --gw-panel).
    "dark": ThemeColours(text="#e6edf3", muted="#8aa0b6", grid="#1e3550", line="#2b4867", hover="#0d1b2a"),
    "light": ThemeColours(text="#1f2933", muted="#6b7785", grid="#e3e8ee", line="#c7d0d9", hover="#ffffff"),
}


def theme_colours(theme: str) -> ThemeColours:
    """Return the neutral colours of a theme, refusing a theme that does not exist."""
    try:
        return _COLOURS[theme]
    except KeyError:
        raise ValueError(f"unknown theme {theme!r}; expected one of {THEMES}") from None


_CLEAR = "rgba(0,0,0,0)"  # the panel behind the chart shows through


def _template(c: ThemeColours) -> go.layout.Template:
    axis = {"gridcolor": c.grid, "linecolor": c.line, "zerolinecolor": c.line, "automargin": True, "ticks": ""}
    return go.layout.Template(
        layout={
            "font": {"family": FONT_FAMILY, "size": 13, "color": c.text},
            "paper_bgcolor": _CLEAR,
            "plot_bgcolor": _CLEAR,
            "colorway": PALETTE,
            "margin": {"l": 8, "r": 8, "t": 40, "b": 8},
            "title": {"x": 0, "xref": "container", "xanchor": "left", "pad": {"l": 10}, "font": {"size": 15}},
            # Measured from the figure's edge, the legend pushes the margin instead of covering a right axis.
            "legend": {"xref": "container", "x": 1, "xanchor": "right", "bgcolor": _CLEAR, "font": {"size": 12}},
            "hoverlabel": {"bgcolor": c.hover, "bordercolor": c.line, "font": {"family": FONT_FAMILY, "color": c.text}},
            "xaxis": axis,
            "yaxis": axis,
            "bargap": 0.25,
        }
    )


_TEMPLATES: Mapping[str, go.layout.Template] = {name: _template(c) for name, c in _COLOURS.items()}


def figure(title: str, *, theme: str, data: Any = (), **layout: Any) -> go.Figure:
    """Build a themed figure with its title, traces and chart-specific layout."""
    theme_colours(theme)  # refuses a theme that does not exist, with the ones that do
    return go.Figure(data=list(data), layout={"template": _TEMPLATES[theme], "title": {"text": title}, **layout})


def empty_figure(title: str, no_data: str, *, theme: str) -> go.Figure:
    """Build a themed figure that says there is nothing to show, with no axes to misread as zero."""
    fig = figure(title, theme=theme, xaxis={"visible": False}, yaxis={"visible": False})
    fig.add_annotation(
        text=no_data,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 16, "color": theme_colours(theme).muted},
    )
    return fig
