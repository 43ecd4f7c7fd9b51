"""The data behind the leaders' ten trend charts, scoped to a unit and its children.

Everything is read for the viewer's unit (its whole subtree); per-unit charts split it by the
unit's children (a district's streets), trend charts by the city's local day (or hour). The
figures themselves are pure functions in ``figures/``; this module only queries and groups.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import plotly.graph_objects as go
import redis

from domain.alerts import Rule
from domain.case_config import CaseConfig
from domain.cases import CaseSource
from figures.leader_charts import CHARTS, ChartSpec
from figures.series import DailyCount, DailyRate, DailyScore, HourlyFlow, UnitCount, UnitRate
from geo.hierarchy import Hierarchy, Level
from storage.chart_queries import ChartQueries
from streams.keys import RedisKeys
from streams.unit_stats import read_hour_flows, read_unit_stats

__all__ = ["CHART_KEYS", "LeaderCharts", "UnknownChart"]

CHART_KEYS: tuple[str, ...] = tuple(c.key for c in CHARTS)
_HEALTH = ("green", "yellow", "red")


class UnknownChart(KeyError):
    """No chart of that key."""


class LeaderCharts:
    """Rows and figures of the leaders' charts for any unit."""

    def __init__(
        self,
        queries: ChartQueries,
        hierarchy: Hierarchy,
        client: redis.Redis,
        keys: RedisKeys,
        cases: CaseConfig,
        rules: Sequence[Rule],
        *,
        utc_offset_min: int = 480,
        subtree: Callable[[str], frozenset[str] | None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._q = queries
        self._h = hierarchy
        self._r = client
        self._keys = keys
        self._cases = cases
        self._rules = {r.key: r for r in rules}
        self._tz = timezone(timedelta(minutes=utc_offset_min))
        self._subtree = subtree
        self._clock = clock
        self._builders: dict[str, Callable[[str, int, str], Sequence[Any]]] = {
            "case_volume": self._case_volume,
            "hotline_topics": self._hotline_topics,
            "on_time_rate": self._on_time,
            "overdue_cases": self._overdue,
            "satisfaction": self._satisfaction,
            "alerts_by_type": self._alerts,
            "device_online_rate": self._devices,
            "visitor_flows": self._flows,
            "health_code_colours": self._health_codes,
            "patrol_checkins": self._patrols,
        }
        assert set(self._builders) == set(CHART_KEYS), "every chart needs its rows"

    def spec(self, key: str) -> ChartSpec:
        """The chart of a key; UnknownChart if none."""
        for c in CHARTS:
            if c.key == key:
                return c
        raise UnknownChart(key)

    def rows(self, key: str, unit_code: str, *, days: int = 14, lang: str = "zh-CN") -> Sequence[Any]:
        """The rows of one chart for a unit over the last ``days`` local days."""
        self.spec(key)
        return self._builders[key](unit_code, max(1, min(days, 92)), lang)

    def figure(
        self, key: str, unit_code: str, *, days: int = 14, lang: str = "zh-CN", theme: str = "light"
    ) -> go.Figure:
        """One chart for a unit, drawn."""
        return self.spec(key).build(self.rows(key, unit_code, days=days, lang=lang), lang=lang, theme=theme)

    # -- helpers ----------------------------------------------------------------------------------
    def _since(self, days: int) -> datetime:
        """The start of the local day ``days - 1`` days ago, in UTC."""
        today = self._clock().astimezone(self._tz).date()
        start = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), self._tz)
        return start.astimezone(UTC)

    def _day(self, ts: datetime) -> date:
        return ts.astimezone(self._tz).date()

    def _children(self, unit_code: str) -> list[tuple[str, str]]:
        """(code, name) of the unit's children; a grid stands for itself."""
        return [(u.code, u.name) for u in self._h.parts(unit_code)]

    def _category_name(self, code: str, lang: str) -> str:
        c = self._cases.categories_by_code.get(code)
        return c.name(lang) if c else code

    # -- the ten charts ---------------------------------------------------------------------------
    def _case_volume(self, unit: str, days: int, lang: str) -> list[DailyCount]:
        counts: Counter[tuple[date, str]] = Counter()
        for ts, code, _ in self._q.cases_created(self._subtree(unit), self._since(days)):
            counts[(self._day(ts), self._category_name(code, lang))] += 1
        return [DailyCount(d, k, n) for (d, k), n in counts.items()]

    def _hotline_topics(self, unit: str, days: int, lang: str) -> list[DailyCount]:
        counts: Counter[tuple[date, str]] = Counter()
        for ts, code, source in self._q.cases_created(self._subtree(unit), self._since(days)):
            if source == CaseSource.HOTLINE.value:
                counts[(self._day(ts), self._category_name(code, lang))] += 1
        return [DailyCount(d, k, n) for (d, k), n in counts.items()]

    def _on_time(self, unit: str, days: int, lang: str) -> list[DailyRate]:
        done: Counter[date] = Counter()
        total: Counter[date] = Counter()
        for ts, on_time in self._q.timed_steps(self._subtree(unit), self._since(days)):
            day = self._day(ts)
            total[day] += 1
            done[day] += on_time
        return [DailyRate(d, done[d], n) for d, n in total.items()]

    def _overdue(self, unit: str, days: int, lang: str) -> list[UnitCount]:
        names = dict(self._children(unit))
        counts: Counter[tuple[str, str]] = Counter()
        for code, service, n in self._q.overdue_open(self._subtree(unit), self._clock()):
            child = self._h.part_containing(code, names)
            if child is not None:
                counts[(child, self._category_name(service, lang))] += n
        return [UnitCount(c, names[c], k, n) for (c, k), n in counts.items()]

    def _satisfaction(self, unit: str, days: int, lang: str) -> list[DailyScore]:
        counts: Counter[tuple[date, int]] = Counter()
        for ts, score in self._q.evaluations(self._subtree(unit), self._since(days)):
            counts[(self._day(ts), score)] += 1
        return [DailyScore(d, s, n) for (d, s), n in counts.items()]

    def _alerts(self, unit: str, days: int, lang: str) -> list[DailyCount]:
        counts: Counter[tuple[date, str]] = Counter()
        for ts, rule_key in self._q.alerts_raised(self._subtree(unit), self._since(days)):
            rule = self._rules.get(rule_key)
            name = (rule.text_en if lang == "en" else rule.text_zh) if rule else rule_key
            counts[(self._day(ts), name or rule_key)] += 1
        return [DailyCount(d, k, n) for (d, k), n in counts.items()]

    def _unit_docs(self, unit: str) -> Iterable[tuple[str, str, dict[str, Any]]]:
        children = self._children(unit)
        docs = read_unit_stats(self._r, self._keys, [c for c, _ in children])["units"]
        assert isinstance(docs, dict)
        for code, name in children:
            yield code, name, docs.get(code) or {}

    def _devices(self, unit: str, days: int, lang: str) -> list[UnitRate]:
        out = []
        for code, name, doc in self._unit_docs(unit):
            dev = doc.get("devices") or {}
            out.append(UnitRate(code, name, int(dev.get("online", 0)), int(dev.get("total", 0))))
        return out

    def _health_codes(self, unit: str, days: int, lang: str) -> list[UnitCount]:
        out = []
        for code, name, doc in self._unit_docs(unit):
            today = doc.get("today") or {}
            out += [UnitCount(code, name, c, int(today.get(f"hc.{c}", 0))) for c in _HEALTH if today.get(f"hc.{c}")]
        return out

    def _flows(self, unit: str, days: int, lang: str) -> list[HourlyFlow]:
        """The last 24 hours of gate flows (kept 49 h); a grid has no hourly flows of its own."""
        if self._h.get(unit).level == Level.GRID:
            return []
        now_hour = int(self._clock().timestamp() // 3600)
        hours = list(range(now_hour - 23, now_hour + 1))
        return [
            HourlyFlow(datetime.fromtimestamp(h * 3600, UTC).astimezone(self._tz), d, p, n)
            for h, d, p, n in read_hour_flows(self._r, self._keys, unit, hours)
        ]

    def _patrols(self, unit: str, days: int, lang: str) -> list[DailyRate]:
        scope = self._subtree(unit)
        expected = self._q.patrol_points(scope) * self._cases.patrol.per_day
        done: Counter[date] = Counter()
        per_point: Counter[tuple[date, int]] = Counter()
        for ts, point in self._q.checkins(scope, self._since(days)):
            day = self._day(ts)
            per_point[(day, point)] += 1
            if per_point[(day, point)] <= self._cases.patrol.per_day:  # extra visits do not cover others
                done[day] += 1
        today = self._clock().astimezone(self._tz).date()
        return [DailyRate(today - timedelta(days=i), done[today - timedelta(days=i)], expected) for i in range(days)]
