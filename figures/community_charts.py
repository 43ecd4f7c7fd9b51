"""The leaders' charts of what happens in the community: alerts, devices, gates, health codes, patrols."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from domain.catalog import t
from figures import _axes, _tallies
from figures._stacks import STACK_TOP_N, daily_stacked_bars
from figures.series import DailyCount, DailyRate, HourlyFlow, UnitCount, UnitRate
from figures.theme import BAD_COLOUR, HEALTH_CODE_COLOURS, PALETTE, empty_figure, figure, theme_colours

__all__ = [
    "alerts_by_type",
    "device_online_rate",
    "health_code_colours",
    "patrol_checkins",
    "visitor_flows",
]

# Gate flows in the order a legend reads best; each has a catalog name.
_FLOWS: tuple[tuple[str, str], ...] = tuple((d, p) for p in ("resident", "visitor", "unknown") for d in ("in", "out"))
_DASH = {"in": "solid", "out": "dash"}


def alerts_by_type(
    rows: Sequence[DailyCount], *, lang: str = "zh-CN", theme: str = "light", top_n: int = STACK_TOP_N
) -> go.Figure:
    """Draw the alerts of each day stacked by type, so a leader sees which risks recur."""
    return daily_stacked_bars(
        rows, title_key="chart.alerts.title", y_key="chart.alerts.y", lang=lang, theme=theme, top_n=top_n
    )


def device_online_rate(rows: Sequence[UnitRate], *, lang: str = "zh-CN", theme: str = "light") -> go.Figure:
    """Draw each child unit's share of devices online, the worst on top; a unit without devices has no bar."""
    title = t("chart.device_online.title", lang)
    labels = _tallies.unit_labels((r.code, r.name) for r in rows)
    pairs = _tallies.pair_sums((r.code, r.done, r.total) for r in rows)
    rates = {code: _tallies.percent(*pair) for code, pair in pairs.items()}
    rated = sorted((c for c, rate in rates.items() if rate is not None), key=lambda c: (rates[c], c))
    if not rated:
        return empty_figure(title, t("chart.no_data", lang), theme=theme)
    order = rated + sorted(c for c, rate in rates.items() if rate is None)
    counts = t("chart.device_online.hover", lang, online="%{customdata[0]}", total="%{customdata[1]}")
    bar = go.Bar(
        x=[rates[c] for c in order],
        y=[labels[c] for c in order],
        customdata=[pairs[c] for c in order],
        orientation="h",
        marker={"color": PALETTE[0]},
        texttemplate="%{x:.1f}%",
        textposition="auto",
        hovertemplate=f"%{{y}}: %{{x:.1f}}%<br>{counts}<extra></extra>",
    )
    return figure(
        title,
        theme=theme,
        data=[bar],
        showlegend=False,
        xaxis=_axes.titled(t("chart.device_online.x", lang), range=[0, 100], ticksuffix="%"),
        yaxis=_axes.unit_axis([labels[c] for c in order]),
    )


def visitor_flows(rows: Sequence[HourlyFlow], *, lang: str = "zh-CN", theme: str = "light") -> go.Figure:
    """Draw the gate passes per hour, one line per direction and kind of person (colour: person, dash: way)."""
    title = t("chart.visitor_flows.title", lang)
    cells = _tallies.sums(((_tallies.wall_clock(r.hour), r.direction, r.person), r.count) for r in rows)
    if not cells:
        return empty_figure(title, t("chart.no_data", lang), theme=theme)
    present = {(d, p) for _, d, p in cells}
    flows = [f for f in _FLOWS if f in present] + sorted(present - set(_FLOWS))
    hours = sorted({hour for hour, _, _ in cells})
    person_colours = {"resident": PALETTE[0], "visitor": PALETTE[1], "unknown": theme_colours(theme).muted}
    traces = []
    for direction, person in flows:
        where = [hour for hour in hours if (hour, direction, person) in cells]
        known = (direction, person) in _FLOWS
        traces.append(
            go.Scatter(
                name=t(f"chart.visitor_flows.{direction}.{person}", lang) if known else f"{person} {direction}",
                x=where,
                y=[cells[hour, direction, person] for hour in where],
                mode="lines+markers",
                marker={"size": 4},
                line={"color": person_colours.get(person, PALETTE[2]), "dash": _DASH.get(direction, "dot")},
            )
        )
    return figure(
        title,
        theme=theme,
        data=traces,
        hovermode="x unified",
        xaxis=_axes.hour_axis(lang),
        yaxis=_axes.titled(t("chart.visitor_flows.y", lang), rangemode="tozero"),
    )


def health_code_colours(rows: Sequence[UnitCount], *, lang: str = "zh-CN", theme: str = "light") -> go.Figure:
    """Draw each child unit's passes stacked by health-code colour in the fixed green, yellow and red."""
    title = t("chart.health_code.title", lang)
    coloured = [r for r in rows if r.key in HEALTH_CODE_COLOURS]
    if not coloured:
        return empty_figure(title, t("chart.no_data", lang), theme=theme)
    labels = _tallies.unit_labels((r.code, r.name) for r in coloured)
    cells = _tallies.sums(((r.code, r.key), r.count) for r in coloured)
    codes = sorted(labels)
    order = [labels[c] for c in codes]
    traces = [
        go.Bar(
            name=t(f"chart.health_code.{colour}", lang),
            x=[cells.get((c, colour), 0) for c in codes],
            y=order,
            orientation="h",
            marker={"color": hex_colour},
        )
        for colour, hex_colour in HEALTH_CODE_COLOURS.items()
    ]
    return figure(
        title,
        theme=theme,
        data=traces,
        barmode="stack",
        hovermode="y unified",
        xaxis=_axes.titled(t("chart.health_code.x", lang), rangemode="tozero"),
        yaxis=_axes.unit_axis(order),
    )


def patrol_checkins(rows: Sequence[DailyRate], *, lang: str = "zh-CN", theme: str = "light") -> go.Figure:
    """Draw each day's patrol check-ins made and missed, stacked up to the number expected."""
    title = t("chart.patrol.title", lang)
    by_day = _tallies.pair_sums((r.day, r.done, r.total) for r in rows)
    if not by_day:
        return empty_figure(title, t("chart.no_data", lang), theme=theme)
    days = _tallies.day_span(by_day)
    pairs = [by_day.get(day) for day in days]
    traces = [
        go.Bar(
            name=t("chart.patrol.done", lang),
            x=days,
            y=[p[0] if p else None for p in pairs],
            marker={"color": PALETTE[0]},
        ),
        go.Bar(
            name=t("chart.patrol.missed", lang),
            x=days,
            y=[max(p[1] - p[0], 0) if p else None for p in pairs],
            marker={"color": BAD_COLOUR},
        ),
        go.Scatter(
            name=t("chart.patrol.expected", lang),
            x=days,
            y=[p[1] if p else None for p in pairs],
            mode="lines+markers",
            connectgaps=False,
            line={"color": theme_colours(theme).muted, "dash": "dot"},
        ),
    ]
    return figure(
        title,
        theme=theme,
        data=traces,
        barmode="stack",
        hovermode="x unified",
        xaxis=_axes.day_axis(days, lang),
        yaxis=_axes.titled(t("chart.patrol.y", lang), rangemode="tozero"),
    )
