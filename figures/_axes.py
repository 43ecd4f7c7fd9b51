"""Axes the charts share: days and hours on x, read the same in Chinese and English."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.catalog import t

__all__ = ["day_axis", "hour_axis", "titled", "unit_axis"]

_DAY_MS = 86_400_000
# Up to this many days, one tick per day; plotly's own ticks would fall at noon and repeat a date.
_DAILY_TICKS_UP_TO = 14


def titled(title: str, **axis: Any) -> dict[str, Any]:
    """Return an axis layout with a title."""
    return {"title": {"text": title}, **axis}


def day_axis(days: Sequence[date], lang: str) -> dict[str, Any]:
    """Return a date axis for one value per day: numeric formats, since plotly.js names months in English."""
    axis = titled(t("chart.axis.day", lang), type="date", tickformat="%m-%d", hoverformat="%Y-%m-%d", showgrid=False)
    if days and (max(days) - min(days)).days < _DAILY_TICKS_UP_TO:
        axis |= {"tick0": min(days).isoformat(), "dtick": _DAY_MS}
    return axis


def hour_axis(lang: str) -> dict[str, Any]:
    """Return a date axis for one value per hour."""
    return titled(
        t("chart.axis.hour", lang),
        type="date",
        tickformat="%H:%M<br>%m-%d",
        hoverformat="%Y-%m-%d %H:%M",
        showgrid=False,
    )


def unit_axis(labels: Sequence[str]) -> dict[str, Any]:
    """Return a category axis of child units in the given order, the first on top."""
    return {
        "type": "category",
        "categoryorder": "array",
        "categoryarray": list(labels),
        "autorange": "reversed",
        "showgrid": False,
    }
