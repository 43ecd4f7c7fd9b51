from __future__ import annotations

import doctest
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import plotly.graph_objects as go
import pytest

from domain import catalog
from domain.catalog import LANGUAGES, t
from figures import _tallies
from figures.case_charts import case_volume_by_category, hotline_topics, on_time_rate, overdue_cases, satisfaction
from figures.community_charts import (
    alerts_by_type,
    device_online_rate,
    health_code_colours,
    patrol_checkins,
    visitor_flows,
)
from figures.leader_charts import CHARTS, ChartSpec
from figures.series import DailyCount, DailyRate, DailyScore, HourlyFlow, UnitCount, UnitRate
from figures.theme import (
    FONT_FAMILY,
    GRAPH_CONFIG,
    HEALTH_CODE_COLOURS,
    PALETTE,
    SCORE_COLOURS,
    THEMES,
    theme_colours,
)

D1, D2, D3, D4 = (date(2024, 5, 1) + timedelta(days=n) for n in range(4))
H0 = datetime(2024, 5, 1, 8)

# A small known dataset per chart, deliberately out of order so every chart has to sort it.
SAMPLES: dict[str, Sequence[Any]] = {
    "case_volume": [
        DailyCount(D3, "环境卫生", 4),
        DailyCount(D1, "环境卫生", 2),
        DailyCount(D1, "市容秩序", 1),
        DailyCount(D2, "市容秩序", 5),
        DailyCount(D1, "环境卫生", 3),  # the same day and key again: summed
    ],
    "hotline_topics": [DailyCount(D2, "噪声", 3), DailyCount(D1, "停车", 7), DailyCount(D1, "噪声", 2)],
    "on_time_rate": [DailyRate(D3, 1, 2), DailyRate(D1, 3, 4), DailyRate(D2, 0, 0)],
    "overdue_cases": [
        UnitCount("B", "玄武门街道", "环境卫生", 1),
        UnitCount("A", "梅园新村街道", "环境卫生", 2),
        UnitCount("A", "梅园新村街道", "市容秩序", 3),
    ],
    "satisfaction": [DailyScore(D2, 5, 2), DailyScore(D1, 5, 2), DailyScore(D1, 3, 2), DailyScore(D1, 1, 1)],
    "alerts_by_type": [DailyCount(D2, "烟感报警", 1), DailyCount(D1, "烟感报警", 2), DailyCount(D1, "一键报警", 1)],
    "device_online_rate": [UnitRate("B", "玄武门街道", 9, 10), UnitRate("A", "梅园新村街道", 45, 50)],
    "visitor_flows": [
        HourlyFlow(H0 + timedelta(hours=1), "in", "resident", 10),
        HourlyFlow(H0, "in", "resident", 4),
        HourlyFlow(H0, "out", "visitor", 2),
    ],
    "health_code_colours": [
        UnitCount("B", "玄武门街道", "green", 10),
        UnitCount("A", "梅园新村街道", "red", 1),
        UnitCount("A", "梅园新村街道", "green", 20),
    ],
    "patrol_checkins": [DailyRate(D3, 2, 2), DailyRate(D1, 3, 4)],
}

TEXT_KEYS = ("text", "hovertext")
# Charts over time; the others order units or topics, tested chart by chart.
TIME_CHARTS = ("case_volume", "on_time_rate", "satisfaction", "alerts_by_type", "visitor_flows", "patrol_checkins")


def by_name(fig: go.Figure) -> dict[str, Any]:
    """Map each trace's name to the trace."""
    return {trace.name: trace for trace in fig.data}


def as_dates(values: Sequence[Any]) -> list[date]:
    """Read an axis's values back as dates, whichever form plotly keeps them in."""
    return [v if isinstance(v, date) else date.fromisoformat(str(v)[:10]) for v in values]


def no_data_text(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


# --- every chart --------------------------------------------------------------------------------


def test_the_registry_lists_the_ten_charts_once() -> None:
    assert len(CHARTS) == 10
    assert len({c.key for c in CHARTS}) == 10
    assert len({c.build for c in CHARTS}) == 10
    assert {c.key for c in CHARTS} == set(SAMPLES)
    assert all(c.title_key in catalog.all_keys() for c in CHARTS)


@pytest.mark.parametrize("spec", CHARTS, ids=lambda c: c.key)
def test_samples_are_rows_of_the_declared_series(spec: ChartSpec) -> None:
    assert all(isinstance(row, spec.series) for row in SAMPLES[spec.key])


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("spec", CHARTS, ids=lambda c: c.key)
def test_title_and_axes_are_in_the_viewers_language(spec: ChartSpec, lang: str) -> None:
    fig = spec.build(SAMPLES[spec.key], lang=lang)
    assert fig.layout.title.text == t(spec.title_key, lang)
    other = t(spec.title_key, "en" if lang == "zh-CN" else "zh-CN")
    assert fig.layout.title.text != other
    titles = [fig.layout.xaxis.title.text, fig.layout.yaxis.title.text]
    assert any(titles)
    if lang == "en":
        assert all(text is None or text.isascii() for text in titles)
    else:
        assert any(text and not text.isascii() for text in titles)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("spec", CHARTS, ids=lambda c: c.key)
def test_empty_input_says_no_data_instead_of_raising(spec: ChartSpec, lang: str) -> None:
    fig = spec.build([], lang=lang, theme="dark")
    assert len(fig.data) == 0
    assert no_data_text(fig) == [t("chart.no_data", lang)]
    note = fig.layout.annotations[0]
    assert (note.x, note.y, note.xref, note.yref, note.showarrow) == (0.5, 0.5, "paper", "paper", False)
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert fig.layout.title.text == t(spec.title_key, lang)
    json.loads(fig.to_json())


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("spec", CHARTS, ids=lambda c: c.key)
def test_figures_serialize_small_and_offline(spec: ChartSpec, theme: str) -> None:
    fig = spec.build(SAMPLES[spec.key], theme=theme)
    wire = fig.to_json()
    doc = json.loads(wire)
    assert doc["data"] and not no_data_text(fig)
    # plotly's default template alone is about 9 kB; ours is a few hundred bytes.
    assert len(wire) < 4000, len(wire)
    assert "http" not in wire
    assert doc["layout"]["template"]["layout"]["font"]["family"] == FONT_FAMILY
    template = doc["layout"]["template"]["layout"]
    assert template["paper_bgcolor"] == template["plot_bgcolor"] == "rgba(0,0,0,0)"
    assert template["font"]["color"] == theme_colours(theme).text
    for trace in fig.data:
        assert all(getattr(trace, key, None) is None for key in TEXT_KEYS), "no per-point text on the wire"


@pytest.mark.parametrize("spec", [c for c in CHARTS if c.key in TIME_CHARTS], ids=lambda c: c.key)
def test_time_axes_are_sorted(spec: ChartSpec) -> None:
    fig = spec.build(list(reversed(SAMPLES[spec.key])))
    assert fig.layout.xaxis.type == "date"
    for trace in fig.data:
        xs = list(trace.x)
        assert xs == sorted(xs), trace.name


@pytest.mark.parametrize("spec", CHARTS, ids=lambda c: c.key)
def test_an_unknown_theme_is_refused(spec: ChartSpec) -> None:
    with pytest.raises(ValueError, match="unknown theme"):
        spec.build(SAMPLES[spec.key], theme="neon")


def test_theme_constants() -> None:
    assert GRAPH_CONFIG == {"displaylogo": False, "displayModeBar": False}
    assert dict(HEALTH_CODE_COLOURS) == {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828"}
    assert FONT_FAMILY.startswith('"Noto Sans CJK SC"') and FONT_FAMILY.endswith("sans-serif")
    assert len(set(PALETTE)) == len(PALETTE)
    assert theme_colours("dark").text != theme_colours("light").text


def test_the_arithmetic_examples_hold() -> None:
    result = doctest.testmod(_tallies)
    assert result.attempted >= 6 and result.failed == 0


# --- each chart ---------------------------------------------------------------------------------


def test_case_volume_stacks_one_trace_per_category_with_the_summed_counts() -> None:
    fig = case_volume_by_category(SAMPLES["case_volume"])
    assert fig.layout.barmode == "stack"
    traces = by_name(fig)
    assert list(traces) == ["环境卫生", "市容秩序"]  # the larger total first, at the bottom
    assert as_dates(traces["环境卫生"].x) == [D1, D3] and list(traces["环境卫生"].y) == [5, 4]
    assert as_dates(traces["市容秩序"].x) == [D1, D2] and list(traces["市容秩序"].y) == [1, 5]
    assert [tr.marker.color for tr in fig.data] == list(PALETTE[:2])


def test_case_volume_folds_small_categories_into_other_per_day() -> None:
    rows = [DailyCount(D1, "a", 10), DailyCount(D1, "b", 1), DailyCount(D2, "c", 2), DailyCount(D1, "c", 3)]
    fig = case_volume_by_category(rows, lang="en", top_n=1)
    traces = by_name(fig)
    assert list(traces) == ["a", "Other"]
    assert as_dates(traces["Other"].x) == [D1, D2] and list(traces["Other"].y) == [4, 2]
    assert traces["Other"].marker.color == theme_colours("light").muted


def test_hotline_topics_keeps_the_top_n_and_sums_the_rest_into_other() -> None:
    rows = [DailyCount(D1, f"topic{n:02d}", n) for n in range(1, 13)] + [DailyCount(D2, "topic12", 5)]
    fig = hotline_topics(rows, lang="en")
    (bar,) = fig.data
    assert bar.orientation == "h"
    assert list(bar.y) == [f"topic{n:02d}" for n in range(12, 2, -1)] + ["Other"]
    assert list(bar.x) == [17, *range(11, 2, -1), 1 + 2]
    assert list(fig.layout.yaxis.categoryarray) == list(bar.y) and fig.layout.yaxis.autorange == "reversed"
    assert bar.marker.color[-1] == theme_colours("light").muted


def test_hotline_topics_merges_a_topic_called_other_and_folds_nothing_when_few() -> None:
    few = hotline_topics(SAMPLES["hotline_topics"])
    assert list(few.data[0].y) == ["停车", "噪声"] and list(few.data[0].x) == [7, 5]
    fig = hotline_topics([DailyCount(D1, "其他", 4), DailyCount(D1, "a", 9), DailyCount(D1, "b", 1)], top_n=1)
    assert list(fig.data[0].y) == ["a", "其他"] and list(fig.data[0].x) == [9, 5]
    with pytest.raises(ValueError, match="top_n"):
        hotline_topics(SAMPLES["hotline_topics"], top_n=-1)


def test_on_time_rate_is_a_percentage_with_gaps_for_days_without_cases() -> None:
    rows = [DailyRate(D4, 1, 2), DailyRate(D1, 3, 4), DailyRate(D2, 0, 0), DailyRate(D1, 0, 0)]
    fig = on_time_rate(rows, lang="en")
    (line,) = fig.data
    assert as_dates(line.x) == [D1, D2, D3, D4]  # D3 has no row: a gap too
    assert list(line.y) == [75.0, None, None, 50.0]
    assert [list(p) for p in line.customdata] == [[3, 4], [0, 0], [0, 0], [1, 2]]
    assert line.connectgaps is False
    assert "%{customdata[0]} of %{customdata[1]} closed on time" in line.hovertemplate
    assert list(fig.layout.yaxis.range) == [0, 100]


def test_on_time_rate_with_nothing_to_rate_says_no_data() -> None:
    assert no_data_text(on_time_rate([DailyRate(D1, 0, 0)], lang="en")) == ["No data"]


def test_overdue_cases_puts_the_unit_with_most_on_top_stacked_by_category() -> None:
    fig = overdue_cases(SAMPLES["overdue_cases"])
    assert fig.layout.barmode == "stack"
    assert list(fig.layout.yaxis.categoryarray) == ["梅园新村街道", "玄武门街道"]
    traces = by_name(fig)
    assert list(traces["环境卫生"].y) == ["梅园新村街道", "玄武门街道"] and list(traces["环境卫生"].x) == [2, 1]
    assert list(traces["市容秩序"].y) == ["梅园新村街道"] and list(traces["市容秩序"].x) == [3]


def test_overdue_cases_tells_apart_units_that_share_a_name() -> None:
    fig = overdue_cases([UnitCount("A2", "新村", "x", 1), UnitCount("A1", "新村", "x", 1)])
    assert list(fig.layout.yaxis.categoryarray) == ["新村 (A1)", "新村 (A2)"]


def test_satisfaction_stacks_scores_and_draws_the_mean_on_a_second_axis() -> None:
    rows = [*SAMPLES["satisfaction"], DailyScore(D1, 6, 100), DailyScore(D3, 0, 100)]
    fig = satisfaction(rows, lang="en")
    traces = by_name(fig)
    assert list(traces) == ["Score 5", "Score 3", "Score 1", "Mean score"]
    assert as_dates(traces["Score 5"].x) == [D1, D2] and list(traces["Score 5"].y) == [2, 2]
    assert list(traces["Score 3"].y) == [2] and list(traces["Score 1"].y) == [1]
    assert traces["Score 5"].marker.color == SCORE_COLOURS[4] and traces["Score 1"].marker.color == SCORE_COLOURS[0]
    mean = traces["Mean score"]
    assert mean.yaxis == "y2" and fig.layout.yaxis2.overlaying == "y"
    assert list(mean.y) == [round((10 + 6 + 1) / 5, 2), 5.0]
    assert fig.layout.barmode == "stack"


def test_satisfaction_mean_leaves_a_gap_for_a_day_without_ratings() -> None:
    fig = satisfaction([DailyScore(D3, 4, 1), DailyScore(D1, 2, 1)])
    mean = fig.data[-1]
    assert as_dates(mean.x) == [D1, D2, D3] and list(mean.y) == [2.0, None, 4.0]


def test_alerts_by_type_stacks_one_trace_per_type() -> None:
    traces = by_name(alerts_by_type(SAMPLES["alerts_by_type"], lang="en"))
    assert list(traces) == ["烟感报警", "一键报警"]
    assert as_dates(traces["烟感报警"].x) == [D1, D2] and list(traces["烟感报警"].y) == [2, 1]
    assert list(traces["一键报警"].y) == [1]


def test_device_online_rate_puts_the_worst_unit_on_top_and_units_without_devices_last() -> None:
    rows = [*SAMPLES["device_online_rate"], UnitRate("C", "红山街道", 0, 0), UnitRate("A", "梅园新村街道", 0, 50)]
    fig = device_online_rate(rows, lang="en")
    (bar,) = fig.data
    assert list(bar.y) == ["梅园新村街道", "玄武门街道", "红山街道"]
    assert list(bar.x) == [45.0, 90.0, None]
    assert [list(p) for p in bar.customdata] == [[45, 100], [9, 10], [0, 0]]
    assert "%{customdata[0]} of %{customdata[1]} online" in bar.hovertemplate
    assert list(fig.layout.yaxis.categoryarray) == list(bar.y)


def test_device_online_rate_without_any_device_says_no_data() -> None:
    assert no_data_text(device_online_rate([UnitRate("A", "x", 0, 0)])) == ["暂无数据"]


def test_visitor_flows_draws_one_line_per_direction_and_person() -> None:
    fig = visitor_flows(SAMPLES["visitor_flows"], lang="en")
    traces = by_name(fig)
    assert list(traces) == ["Residents in", "Visitors out"]
    assert list(traces["Residents in"].x) == [H0, H0 + timedelta(hours=1)]
    assert list(traces["Residents in"].y) == [4, 10]
    assert traces["Residents in"].line.dash == "solid" and traces["Visitors out"].line.dash == "dash"
    assert traces["Residents in"].line.color != traces["Visitors out"].line.color


def test_visitor_flows_sorts_naive_and_aware_hours_by_wall_clock_and_keeps_unknown_kinds() -> None:
    cst = timezone(timedelta(hours=8))
    rows = [
        HourlyFlow(datetime(2024, 5, 1, 9, tzinfo=cst), "in", "resident", 1),
        HourlyFlow(datetime(2024, 5, 1, 8), "in", "resident", 2),
        HourlyFlow(datetime(2024, 5, 1, 7, tzinfo=UTC), "sideways", "courier", 3),
    ]
    traces = by_name(visitor_flows(rows))
    assert list(traces["居民进入"].x) == [datetime(2024, 5, 1, 8), datetime(2024, 5, 1, 9)]
    assert list(traces["courier sideways"].y) == [3]


def test_health_code_colours_uses_the_fixed_colours_per_unit() -> None:
    rows = [*SAMPLES["health_code_colours"], UnitCount("B", "玄武门街道", "none", 99)]
    fig = health_code_colours(rows, lang="en")
    assert [tr.marker.color for tr in fig.data] == ["#2e7d32", "#f9a825", "#c62828"]
    traces = by_name(fig)
    assert list(traces) == ["Green", "Yellow", "Red"]
    assert list(traces["Green"].y) == ["梅园新村街道", "玄武门街道"]  # by unit code
    assert list(traces["Green"].x) == [20, 10]
    assert list(traces["Yellow"].x) == [0, 0] and list(traces["Red"].x) == [1, 0]
    assert fig.layout.barmode == "stack"


def test_health_code_colours_without_a_colour_says_no_data() -> None:
    assert no_data_text(health_code_colours([UnitCount("A", "x", "none", 5)])) == ["暂无数据"]


def test_patrol_checkins_shows_done_missed_and_expected_with_gaps() -> None:
    rows = [*SAMPLES["patrol_checkins"], DailyRate(D4, 5, 3)]
    fig = patrol_checkins(rows, lang="en")
    traces = by_name(fig)
    assert list(traces) == ["Checked in", "Missed", "Expected"]
    assert as_dates(traces["Checked in"].x) == [D1, D2, D3, D4]
    assert list(traces["Checked in"].y) == [3, None, 2, 5]
    assert list(traces["Missed"].y) == [1, None, 0, 0]  # more check-ins than expected miss nothing
    assert list(traces["Expected"].y) == [4, None, 2, 3]
    assert fig.layout.barmode == "stack"
