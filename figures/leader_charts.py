"""The ten leaders' trend charts described as data: the leader page lists CHARTS, it knows no chart by name.

Each chart is drawn from rows the data layer has already scoped to the viewer's unit and its children.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import plotly.graph_objects as go

from figures.case_charts import case_volume_by_category, hotline_topics, on_time_rate, overdue_cases, satisfaction
from figures.community_charts import (
    alerts_by_type,
    device_online_rate,
    health_code_colours,
    patrol_checkins,
    visitor_flows,
)
from figures.series import DailyCount, DailyRate, DailyScore, HourlyFlow, UnitCount, UnitRate

__all__ = ["CHARTS", "ChartBuilder", "ChartSpec"]


class ChartBuilder(Protocol):
    """What every chart builder is: rows in, a figure out, in a language and a theme."""

    def __call__(self, rows: Sequence[Any], /, *, lang: str = ..., theme: str = ...) -> go.Figure: ...


@dataclass(frozen=True, slots=True)
class ChartSpec:
    """How one leader chart is named, what rows it is drawn from and which function draws it."""

    key: str
    title_key: str
    series: type
    build: ChartBuilder


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec("case_volume", "chart.case_volume.title", DailyCount, case_volume_by_category),
    ChartSpec("hotline_topics", "chart.hotline.title", DailyCount, hotline_topics),
    ChartSpec("on_time_rate", "chart.on_time.title", DailyRate, on_time_rate),
    ChartSpec("overdue_cases", "chart.overdue.title", UnitCount, overdue_cases),
    ChartSpec("satisfaction", "chart.satisfaction.title", DailyScore, satisfaction),
    ChartSpec("alerts_by_type", "chart.alerts.title", DailyCount, alerts_by_type),
    ChartSpec("device_online_rate", "chart.device_online.title", UnitRate, device_online_rate),
    ChartSpec("visitor_flows", "chart.visitor_flows.title", HourlyFlow, visitor_flows),
    ChartSpec("health_code_colours", "chart.health_code.title", UnitCount, health_code_colours),
    ChartSpec("patrol_checkins", "chart.patrol.title", DailyRate, patrol_checkins),
)
