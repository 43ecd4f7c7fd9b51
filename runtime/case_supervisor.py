"""Online supervision: cases past the deadline of their step are raised as alerts, once per step.

One process at a time (a leased loop) looks for open cases whose deadline passed and whose
overdue alert for the current state was not raised yet; it raises ``case_overdue`` at the unit
that owes the next step (the street's command center, or the grid) and remembers it on the
case. Taking the step clears the alert (runtime.case_service); a new state arms a new one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

import redis

from domain.case_config import CaseConfig
from domain.cases import CENTER_STATES
from geo.hierarchy import Hierarchy, Level
from runtime.alert_sink import AlertRaiser
from runtime.leased_loop import LeasedLoop, utc_now
from storage.case_repository import CaseRecord, CaseRepository

__all__ = ["CaseSupervisor", "responsible_unit"]

log = logging.getLogger(__name__)
RULE = "case_overdue"


def responsible_unit(case: CaseRecord, hierarchy: Hierarchy) -> str:
    """The unit that owes the case's next step: its street's center for center steps, else its own unit."""
    if case.state not in CENTER_STATES or case.unit_code not in hierarchy:
        return case.unit_code
    unit = hierarchy.get(case.unit_code)
    if unit.level <= Level.STREET:
        return unit.code
    for code in hierarchy.ancestors(unit.code):
        if hierarchy.get(code).level == Level.STREET:
            return code
    return unit.code


class CaseSupervisor(LeasedLoop[int]):
    """Raise an alert for every case that passed the deadline of its current step."""

    name = "case supervisor"

    def __init__(
        self,
        cases: CaseRepository,
        raiser: AlertRaiser,
        hierarchy: Hierarchy,
        config: CaseConfig,
        client: redis.Redis,
        lease_key: str,
        *,
        owner: str,
        interval_s: float = 30.0,
        clock: Callable[[], datetime] = utc_now,
        checks: Sequence[Callable[[datetime], object]] = (),
    ) -> None:
        super().__init__(client, lease_key, owner=owner, interval_s=interval_s, clock=clock)
        self._cases = cases
        self._raiser = raiser
        self._h = hierarchy
        self._config = config
        # Other deadlines supervised on the same pass (runtime.verification_service.check_overdue).
        self._checks = tuple(checks)

    def work(self, now: datetime) -> int:
        """Raise the overdue cases not yet raised; return how many were raised."""
        raised = 0
        for case in self._cases.overdue(now):
            category = self._config.categories_by_code.get(case.service_code)
            name = category.name_zh if category else case.service_code
            text = f"案件超期：#{case.id} {name}（{_STATE_ZH.get(case.state.value, case.state.value)}）"
            self._raiser.raise_external(
                RULE,
                f"case:{case.id}",
                responsible_unit(case, self._h),
                text,
                now,
                event_id=f"case:{case.id}:{case.version}:overdue",  # a retried pass counts once
            )
            if self._cases.mark_overdue_alerted(case.id, case.state, case.version):
                raised += 1
        for check in self._checks:
            try:
                check(now)
            except Exception:  # one feature's failure must not stop the cases' supervision
                log.exception("overdue check %r failed", check)
        return raised


_STATE_ZH = {
    "collected": "待受理",
    "accepted": "待派遣",
    "dispatched": "待签收",
    "handling": "处置中",
    "feedback": "待核查",
    "verified": "待结案",
    "closed": "待评价",
}
