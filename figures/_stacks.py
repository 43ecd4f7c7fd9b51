"""Bars stacked by key, as several charts draw them: the largest keys in colour, the rest as Other."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

import plotly.graph_objects as go

from domain.catalog import t
from figures import _axes, _tallies
from figures.series import DailyCount
from figures.theme import PALETTE, empty_figure, figure, theme_colours

__all__ = ["STACK_TOP_N", "daily_stacked_bars", "stacked_traces"]

# Keys drawn in their own colour; with Other this uses the whole palette and no colour repeats.
STACK_TOP_N = len(PALETTE) - 1

P = TypeVar("P", bound=Hashable)


def stacked_traces(
    cells: Mapping[tuple[P, str], int],
    positions: Sequence[P],
    *,
    top_n: int,
    other: str,
    other_colour: str,
    horizontal: bool = False,
) -> list[go.Bar]:
    """Build one bar trace per key, largest total first (the bottom of the stack), folding the rest into other.

    A trace has a bar only where its key has a cell, so a sparse key costs little on the wire.
    """
    by_key: dict[str, dict[P, int]] = {}
    for (position, key), n in cells.items():
        by_key.setdefault(key, {})[position] = n
    kept, folded = _tallies.fold({key: sum(v.values()) for key, v in by_key.items()}, top_n, other)
    series = [(key, by_key[key], PALETTE[i % len(PALETTE)]) for i, key in enumerate(kept)]
    if folded:
        rest = _tallies.sums((p, n) for key in sorted(folded) for p, n in by_key[key].items())
        series.append((other, rest, other_colour))
    traces = []
    for name, by_position, colour in series:
        where = [p for p in positions if p in by_position]
        values = [by_position[p] for p in where]
        x, y = (values, where) if horizontal else (where, values)
        traces.append(go.Bar(name=name, x=x, y=y, orientation="h" if horizontal else "v", marker={"color": colour}))
    return traces


def daily_stacked_bars(
    rows: Sequence[DailyCount], *, title_key: str, y_key: str, lang: str, theme: str, top_n: int
) -> go.Figure:
    """Build a chart of one stacked bar per day, one colour per key."""
    title = t(title_key, lang)
    if not rows:
        return empty_figure(title, t("chart.no_data", lang), theme=theme)
    cells = _tallies.sums(((r.day, r.key), r.count) for r in rows)
    days = sorted({day for day, _ in cells})
    traces = stacked_traces(
        cells, days, top_n=top_n, other=t("chart.other", lang), other_colour=theme_colours(theme).muted
    )
    return figure(
        title,
        theme=theme,
        data=traces,
        barmode="stack",
        hovermode="x unified",
        xaxis=_axes.day_axis(days, lang),
        yaxis=_axes.titled(t(y_key, lang), rangemode="tozero"),
    )
