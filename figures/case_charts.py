"""The leaders' charts of the case workflow: volume, hotline topics, on-time rate, overdue cases, satisfaction."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from domain.catalog import t
from figures import _axes, _tallies
from figures._stacks import STACK_TOP_N, daily_stacked_bars, stacked_traces
from figures.series import DailyCount, DailyRate, DailyScore, UnitCount
from figures.theme import PALETTE, SCORE_COLOURS, empty_figure, figure, theme_colours

__all__ = [
    "HOTLINE_TOP_N",
    "case_volume_by_category",
    "hotline_topics",
    "on_time_rate",
    "overdue_cases",
    "satisfaction",
]

HOTLINE_TOP_N = 10
_SCORES = range(len(SCORE_COLOURS), 0, -1)  # 5 .. 1: the best at the bottom of the stack


def case_volume_by_category(
    rows: Sequence[DailyCount], *, lang: str = "zh-CN", theme: str = "light", top_n: int = STACK_TOP_N
) -> go.Figure:
    """Draw the cases of each day stacked by category, so a leader sees what drives the volume."""
    return daily_stacked_bars(
        rows, title_key="chart.case_volume.title", y_key="chart.case_volume.y", lang=lang, theme=theme, top_n=top_n
    )


def hotline_topics(
    rows: Sequence[DailyCount], *, lang: str = "zh-CN", theme: str = "light", top_n: int = HOTLINE_TOP_N
) -> go.Figure:
    """Draw the period's hotline calls per topic, largest first, the topics past top_n summed as Other."""
    title = t("chart.hotline.title", lang)
    totals = _tallies.sums((r.key, r.count) for r in rows)
    if not totals:
        return empty_figure(title, t("chart.no_data", lang), theme=theme)
    other = t("chart.other", lang)
    kept, folded = _tallies.fold(totals, top_n, other)
    names = [*kept, other] if folded else kept
    values = [totals[k] for k in kept] + ([sum(totals[k] for k in folded)] if folded else [])
    colours = [PALETTE[0]] * len(kept) + ([theme_colours(theme).muted] if folded else [])
    bar = go.Bar(
        x=values,
        y=names,
        orientation="h",
        marker={"color": colours},
        texttemplate="%{x}",
        textposition="auto",
        hovertemplate="%{y}: %{x}<extra></extra>",
    )
    return figure(
        title,
        theme=theme,
        data=[bar],
        showlegend=False,
        xaxis=_axes.titled(t("chart.hotline.x", lang), rangemode="tozero"),
        yaxis=_axes.unit_axis(names),
    )


def on_time_rate(rows: Sequence[DailyRate], *, lang: str = "zh-CN", theme: str = "light") -> go.Figure:
    """Draw the share of each day's cases closed on time; a day with no cases is a gap, not 0 %."""
    title = t("chart.on_time.title", lang)
    by_day = _tallies.pair_sums((r.day, r.done, r.total) for r in rows)
    days = _tallies.day_span(by_day)
    pairs = [by_day.get(day, (0, 0)) for day in days]
    rates = [_tallies.percent(done, total) for done, total in pairs]
    if all(rate is None for rate in rates):
        return empty_figure(title, t("chart.no_data", lang), theme=theme)
    counts = t("chart.on_time.hover", lang, done="%{customdata[0]}", total="%{customdata[1]}")
    line = go.Scatter(
        name=title,
        x=days,
        y=rates,
        customdata=pairs,
        mode="lines+markers",
        connectgaps=False,
        cliponaxis=False,
        line={"color": PALETTE[0]},
        hovertemplate=f"%{{y:.1f}}%<br>{counts}<extra></extra>",
    )
    return figure(
        title,
        theme=theme,
        data=[line],
        showlegend=False,
        hovermode="x unified",
        xaxis=_axes.day_axis(days, lang),
        yaxis=_axes.titled(t("chart.on_time.y", lang), range=[0, 100], ticksuffix="%"),
    )


def overdue_cases(
    rows: Sequence[UnitCount], *, lang: str = "zh-CN", theme: str = "light", top_n: int = STACK_TOP_N
) -> go.Figure:
    """Draw each child unit's overdue open cases stacked by category, the unit with most on top."""
    title = t("chart.overdue.title", lang)
    if not rows:
        return empty_figure(title, t("chart.no_data", lang), theme=theme)
    labels = _tallies.unit_labels((r.code, r.name) for r in rows)
    per_unit = _tallies.sums((r.code, r.count) for r in rows)
    order = [labels[code] for code in sorted(per_unit, key=lambda code: (-per_unit[code], code))]
    cells = _tallies.sums(((labels[r.code], r.key), r.count) for r in rows)
    traces = stacked_traces(
        cells,
        order,
        top_n=top_n,
        other=t("chart.other", lang),
        other_colour=theme_colours(theme).muted,
        horizontal=True,
    )
    return figure(
        title,
        theme=theme,
        data=traces,
        barmode="stack",
        hovermode="y unified",
        xaxis=_axes.titled(t("chart.overdue.x", lang), rangemode="tozero"),
        yaxis=_axes.unit_axis(order),
    )


def satisfaction(rows: Sequence[DailyScore], *, lang: str = "zh-CN", theme: str = "light") -> go.Figure:
    """Draw each day's ratings stacked by score (1 to 5; others are left out) and their mean on a second axis."""
    title = t("chart.satisfaction.title", lang)
    cells = _tallies.sums(((r.day, r.score), r.count) for r in rows if 1 <= r.score <= len(SCORE_COLOURS))
    if not cells:
        return empty_figure(title, t("chart.no_data", lang), theme=theme)
    days = _tallies.day_span(day for day, _ in cells)
    traces: list[go.Bar | go.Scatter] = []
    for score in _SCORES:
        where = [day for day in days if (day, score) in cells]
        if where:
            traces.append(
                go.Bar(
                    name=t("chart.satisfaction.score", lang, score=score),
                    x=where,
                    y=[cells[day, score] for day in where],
                    marker={"color": SCORE_COLOURS[score - 1]},
                )
            )
    ratings = _tallies.pair_sums((day, score * n, n) for (day, score), n in cells.items())
    means = [round(ratings[d][0] / ratings[d][1], 2) if d in ratings and ratings[d][1] > 0 else None for d in days]
    traces.append(
        go.Scatter(
            name=t("chart.satisfaction.mean", lang),
            x=days,
            y=means,
            yaxis="y2",
            mode="lines+markers",
            connectgaps=False,
            cliponaxis=False,
            line={"color": theme_colours(theme).text},
        )
    )
    return figure(
        title,
        theme=theme,
        data=traces,
        barmode="stack",
        hovermode="x unified",
        xaxis=_axes.day_axis(days, lang),
        yaxis=_axes.titled(t("chart.satisfaction.y", lang), rangemode="tozero"),
        yaxis2=_axes.titled(
            t("chart.satisfaction.mean", lang),
            overlaying="y",
            side="right",
            range=[1, len(SCORE_COLOURS)],
            dtick=1,
            showgrid=False,
        ),
    )
