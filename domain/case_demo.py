"""Plausible lives of demo cases: which steps a case takes and how long each one waits.

The demo city needs cases in every state, some late, some re-opened, a spread of
satisfaction, so that the leaders' charts, the supervision list and the scoreboard show
something real from the first start. This module only draws the plan; the runtime plays it
through the real case service, so every demo step is a real, audited workflow step.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.case_config import Category
from domain.cases import CaseAction, CaseSource, CaseState, plan

__all__ = ["DESCRIPTIONS", "DemoCaseOdds", "PlannedStep", "plan_life"]

# What citizens and grid workers say, per category: demo text, not interface strings.
DESCRIPTIONS: Mapping[str, tuple[str, ...]] = {
    "sanitation": ("小区门口垃圾堆放多日无人清运", "垃圾桶满溢，异味严重", "楼道堆放杂物影响通行"),
    "illegal_construction": ("楼顶私自加盖彩钢板房", "一楼住户破墙开店", "绿地被圈占搭建棚子"),
    "road_damage": ("路面塌陷出现大坑", "人行道地砖松动翘起", "井盖破损存在安全隐患"),
    "street_light": ("路灯连续三晚不亮", "小区主干道路灯闪烁", "路灯杆倾斜"),
    "noise": ("夜间施工噪音扰民", "广场舞音响声音过大", "商铺外放音乐噪音大"),
    "water_supply": ("小区停水未提前通知", "水管破裂漏水", "自来水发黄"),
    "fire_hazard": ("消防通道被车辆堵塞", "电动车在楼道充电", "灭火器过期未更换"),
    "public_security": ("小区门禁损坏外来人员随意进出", "夜间有人翻越围墙", "监控探头损坏"),
    "epidemic": ("有外地返回人员未报备", "核酸采样点秩序混乱", "隔离人员外出"),
    "dispute": ("邻里因漏水发生纠纷", "停车位归属争议", "物业与业主费用纠纷"),
    "elderly_care": ("独居老人多日未出门", "高龄老人需要上门服务", "老人走失需协助寻找"),
    "property": ("电梯故障多日未修", "物业不作为", "小区监控无人值守"),
    "other": ("其他需要协调解决的问题", "居民咨询政策", "公共设施损坏"),
}


@dataclass(frozen=True, slots=True)
class DemoCaseOdds:
    """How demo cases tend to go: the share of steps taken in time, rejections, re-opens."""

    on_time: float = 0.88
    reject: float = 0.04
    reopen: float = 0.08
    satisfaction_weights: Sequence[float] = (0.03, 0.05, 0.12, 0.35, 0.45)  # scores 1..5


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One step of a demo case: when it happens and what it is."""

    at: datetime
    from_state: CaseState
    action: CaseAction
    note: str = ""
    satisfaction: int | None = None


_NEXT: Mapping[CaseState, CaseAction] = {
    CaseState.COLLECTED: CaseAction.ACCEPT,
    CaseState.ACCEPTED: CaseAction.DISPATCH,
    CaseState.DISPATCHED: CaseAction.START,
    CaseState.HANDLING: CaseAction.FEEDBACK,
    CaseState.FEEDBACK: CaseAction.VERIFY,
    CaseState.VERIFIED: CaseAction.CLOSE,
    CaseState.CLOSED: CaseAction.EVALUATE,
}


def _wait(rng: random.Random, limit: timedelta | None, odds: DemoCaseOdds) -> timedelta:
    """How long a step waits: mostly within its limit, sometimes up to twice it."""
    base = limit if limit is not None else timedelta(hours=24)
    share = rng.uniform(0.05, 0.9) if rng.random() < odds.on_time else rng.uniform(1.05, 2.0)
    return base * share


def plan_life(
    rng: random.Random,
    category: Category,
    source: CaseSource,
    created_at: datetime,
    *,
    odds: DemoCaseOdds = DemoCaseOdds(),
    speed: float = 1.0,
) -> list[PlannedStep]:
    """Draw the steps of one case from its collection to its evaluation (or rejection).

    ``speed`` divides every wait: the live demo runs its cases a hundred times faster than a
    city would, so that a visitor sees them move; the backfilled history runs at 1.
    """
    steps: list[PlannedStep] = []
    state, at, reopened = CaseState.COLLECTED, created_at, False
    while state is not CaseState.EVALUATED:
        at += _wait(rng, category.limit(state), odds) / speed
        if state is CaseState.COLLECTED and rng.random() < odds.reject:
            steps.append(PlannedStep(at, state, CaseAction.REJECT, note="不属于受理范围"))
            return steps
        if state is CaseState.FEEDBACK and not reopened and rng.random() < odds.reopen:
            reopened = True
            step = PlannedStep(at, state, CaseAction.REOPEN, note="核查未通过，需重新处置")
            steps.append(step)
            state = plan(state, step.action, source=source, reason=step.note).to_state
            continue
        action = _NEXT[state]
        if action is CaseAction.EVALUATE:
            score = rng.choices(range(1, 6), weights=odds.satisfaction_weights)[0]
            steps.append(PlannedStep(at, state, action, satisfaction=score if source is CaseSource.HOTLINE else None))
            return steps
        steps.append(PlannedStep(at, state, action))
        state = plan(state, action, source=source).to_state
    return steps
