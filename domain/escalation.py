"""Escalation up the grid tree: deadlines to acknowledge, the ladder of levels, the next step.

An alert nobody acknowledges in time moves up one level of the ladder (by default grid →
community → street → district → city): it then shows on that level's screens with a
countdown and is notified again. The deadlines and the ladder are configuration, an
``[escalation]`` table in the rule file::

    [escalation]
    levels = ["grid", "community", "street", "district", "city"]
    [escalation.ack_s]      # seconds to acknowledge at the alert's own unit, per severity
    critical = 120
    [escalation.step_s]     # seconds at each higher level before the next step (default: ack_s)
    critical = 120

A severity without an ``ack_s`` entry never escalates. Deciding the next step is pure: the
alert's position, its unit's chain of ancestors and the clock in, the next position out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from domain.alerts import RuleError, Severity

__all__ = ["LEVELS", "EscalationPolicy", "EscalationStep", "next_step", "parse_escalation"]

# The grid tree's levels from the bottom up, named as in the rule file.
LEVELS: tuple[str, ...] = ("grid", "community", "street", "district", "city")
_KEYS = frozenset({"levels", "ack_s", "step_s"})


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """The ladder of levels an alert climbs and how long each severity may wait at each rung."""

    levels: tuple[str, ...] = LEVELS
    ack_s: Mapping[Severity, int] = field(default_factory=dict)
    step_s: Mapping[Severity, int] = field(default_factory=dict)

    def first_deadline(self, severity: Severity, first_seen: datetime) -> datetime | None:
        """When an alert first seen then escalates unless acknowledged; None if its severity never does.

        >>> from datetime import UTC
        >>> policy = EscalationPolicy(ack_s={Severity.CRITICAL: 120})
        >>> policy.first_deadline(Severity.CRITICAL, datetime(2026, 1, 1, tzinfo=UTC)).isoformat()
        '2026-01-01T00:02:00+00:00'
        >>> policy.first_deadline(Severity.WARNING, datetime(2026, 1, 1, tzinfo=UTC)) is None
        True
        """
        seconds = self.ack_s.get(severity)
        return None if seconds is None else first_seen + timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """Where an alert goes: the unit of the next rung, its level, the step number and the next deadline."""

    step: int
    level_code: str
    level: str
    escalates_at: datetime | None  # None: the top of the ladder, nothing above to tell


def next_step(
    policy: EscalationPolicy,
    *,
    severity: Severity,
    step: int,
    level_code: str,
    escalates_at: datetime | None,
    chain: Sequence[tuple[str, str]],
    now: datetime,
) -> EscalationStep | None:
    """Return the next rung of an unacknowledged alert, or None if it stays (not due yet, or at the top).

    ``chain`` lists ``(code, level)`` from the alert's own unit up to the city. The alert moves
    to the nearest unit above ``level_code`` whose level is on the ladder; that level gets a
    full ``step_s`` on its screens from now, so a late tick never shortens anyone's time.

    >>> from datetime import UTC
    >>> policy = EscalationPolicy(ack_s={Severity.HIGH: 60}, step_s={Severity.HIGH: 30})
    >>> chain = [("g1", "grid"), ("c1", "community"), ("s1", "street"), ("d1", "district"), ("city", "city")]
    >>> t = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    >>> nxt = next_step(policy, severity=Severity.HIGH, step=0, level_code="g1", escalates_at=t, chain=chain, now=t)
    >>> nxt.level_code, nxt.level, nxt.step, nxt.escalates_at.isoformat()
    ('c1', 'community', 1, '2026-01-01T00:01:30+00:00')
    """
    if escalates_at is None or escalates_at > now:
        return None
    codes = [code for code, _ in chain]
    if level_code not in codes:
        return None
    above = chain[codes.index(level_code) + 1 :]
    rungs = [(code, level) for code, level in above if level in policy.levels]
    if not rungs:
        return None
    code, level = rungs[0]
    at_top = len(rungs) == 1
    seconds = policy.step_s.get(severity, policy.ack_s.get(severity))
    deadline = None if at_top or seconds is None else now + timedelta(seconds=seconds)
    return EscalationStep(step + 1, code, level, deadline)


def _seconds_by_severity(name: str, raw: Any) -> dict[Severity, int]:
    if not isinstance(raw, Mapping):
        raise RuleError(f"escalation: {name} must be a table of severity = seconds")
    out: dict[Severity, int] = {}
    for key, value in raw.items():
        try:
            severity = Severity[str(key).upper()]
        except KeyError:
            raise RuleError(
                f"escalation: {name}.{key} is not a severity (one of {[s.name.lower() for s in Severity]})"
            ) from None
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise RuleError(f"escalation: {name}.{key} must be a whole number of seconds, at least 1")
        out[severity] = value
    return out


def parse_escalation(data: Mapping[str, Any]) -> EscalationPolicy:
    """Build the policy from a parsed rule file's ``[escalation]`` table; no table, no escalation.

    >>> parse_escalation({"escalation": {"levels": ["grid", "city"], "ack_s": {"critical": 60}}}).step_s
    {<Severity.CRITICAL: 4>: 60}
    >>> parse_escalation({"escalation": {"levels": ["city", "grid"]}})
    Traceback (most recent call last):
    ...
    domain.alerts.RuleError: escalation: levels must climb the tree in order (grid, community, street, district, city)
    """
    raw = data.get("escalation")
    if raw is None:
        return EscalationPolicy()
    if not isinstance(raw, Mapping):
        raise RuleError("escalation must be a table")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise RuleError(f"escalation: unknown key(s) {unknown}; expected {sorted(_KEYS)}")
    levels = raw.get("levels", list(LEVELS))
    if not isinstance(levels, list) or not all(isinstance(x, str) for x in levels):
        raise RuleError("escalation: levels must be a list of level names")
    strange = [x for x in levels if x not in LEVELS]
    if strange:
        raise RuleError(f"escalation: unknown level(s) {strange}; the levels are {list(LEVELS)}")
    positions = [LEVELS.index(x) for x in levels]
    if len(levels) < 2 or positions != sorted(set(positions)):
        raise RuleError(f"escalation: levels must climb the tree in order ({', '.join(LEVELS)})")
    ack = _seconds_by_severity("ack_s", raw.get("ack_s", {}))
    step = _seconds_by_severity("step_s", raw.get("step_s", {}))
    orphans = sorted(s.name.lower() for s in set(step) - set(ack))
    if orphans:
        raise RuleError(f"escalation: step_s for {orphans} without an ack_s (they would never start escalating)")
    return EscalationPolicy(tuple(levels), ack, {s: step.get(s, ack[s]) for s in ack})
