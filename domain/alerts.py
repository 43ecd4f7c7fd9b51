"""Alerts: rules described as data, what an event fires or clears, and the lifecycle.

A rule is a declared description (key, severity, what it matches, how occurrences are
grouped, what clears it, its text); the set lives in a TOML file that a city tunes without
code changes. Evaluation is pure: an event in, firings and clearings out.

Lifecycle: new → acknowledged → dispatched → resolved → closed. An alert also *clears*
when its condition does (smoke back to normal); it is closed only when it is both
acknowledged and cleared, and firing again after clearing re-arms a new occurrence.
"""

from __future__ import annotations

import enum
import operator
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AlertState",
    "Firing",
    "InvalidTransition",
    "Rule",
    "RuleError",
    "RuleKind",
    "Severity",
    "can_transition",
    "evaluate",
    "parse_rules",
    "rules_from",
]


class Severity(enum.IntEnum):
    """How urgent; higher is more urgent (orders the duty queue)."""

    INFO = 1
    WARNING = 2
    HIGH = 3
    CRITICAL = 4


class AlertState(enum.StrEnum):
    """Where an alert is in its lifecycle."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    RESOLVED = "resolved"
    CLOSED = "closed"


_NEXT: Mapping[AlertState, frozenset[AlertState]] = {
    AlertState.NEW: frozenset({AlertState.ACKNOWLEDGED}),
    AlertState.ACKNOWLEDGED: frozenset({AlertState.DISPATCHED, AlertState.RESOLVED}),
    AlertState.DISPATCHED: frozenset({AlertState.RESOLVED}),
    AlertState.RESOLVED: frozenset({AlertState.CLOSED}),
    AlertState.CLOSED: frozenset(),
}


class InvalidTransition(ValueError):
    """A lifecycle step that is not allowed from the alert's current state."""


def can_transition(current: AlertState, target: AlertState) -> bool:
    """Whether the lifecycle allows going from current to target.

    >>> can_transition(AlertState.NEW, AlertState.ACKNOWLEDGED), can_transition(AlertState.NEW, AlertState.CLOSED)
    (True, False)
    """
    return target in _NEXT[current]


class RuleError(ValueError):
    """A rule file that cannot be used; the message names the rule and the key."""


_OPS: Mapping[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True, slots=True)
class Condition:
    """One test on a flattened event field (e.g. ``payload.value > 60``)."""

    path: str
    op: str
    value: Any

    def holds(self, event: Mapping[str, Any]) -> bool:
        """Whether the event satisfies the condition (a missing field never does)."""
        current: Any = event
        for part in self.path.split("."):
            if not isinstance(current, Mapping) or part not in current:
                return False
            current = current[part]
        try:
            return bool(_OPS[self.op](current, self.value))
        except TypeError:
            return False


class RuleKind(enum.StrEnum):
    """What makes a rule fire: one event, a device's silence, or another feature of Gridwatch."""

    EVENT = "event"  # `when` / `clear_when` on each placed event
    DEVICE_OFFLINE = "device_offline"  # no event from a device for `minutes`; clears when it is seen again
    EXTERNAL = "external"  # raised and cleared through an API (e.g. the cases feature: case overdue)
    UNIT_WINDOW = "unit_window"  # a unit's counts over a window (visitor surge, hotspot): domain.window_rules


@dataclass(frozen=True, slots=True)
class Rule:
    """A declared alert rule."""

    key: str
    severity: Severity
    when: tuple[Condition, ...]
    clear_when: tuple[Condition, ...] = ()
    group_by: tuple[str, ...] = ("device_id",)
    text_zh: str = ""
    text_en: str = ""
    category: str = "Safety"  # CAP category
    extra: Mapping[str, Any] = field(default_factory=dict)
    kind: RuleKind = RuleKind.EVENT
    minutes: int = 0  # DEVICE_OFFLINE: how long a device may stay silent

    @property
    def clears_itself(self) -> bool:
        """Whether the condition's end is detected (so closing waits for it) rather than declared by a person."""
        return bool(self.clear_when) or self.kind is not RuleKind.EVENT

    def dedup_key(self, event: Mapping[str, Any]) -> str:
        """The key that groups occurrences of this rule for the same source."""
        parts = [str(_get(event, path)) for path in self.group_by]
        return f"{self.key}:" + ":".join(parts)


def _get(event: Mapping[str, Any], path: str) -> Any:
    current: Any = event
    for part in path.split("."):
        current = current.get(part) if isinstance(current, Mapping) else None
    return current


@dataclass(frozen=True, slots=True)
class Firing:
    """An event made a rule fire (``clears=False``) or cleared it (``clears=True``)."""

    rule: Rule
    dedup_key: str
    clears: bool


def evaluate(rules: Iterable[Rule], event: Mapping[str, Any]) -> list[Firing]:
    """Return what one event fires and clears.

    >>> rules = parse_rules('''
    ... [[rule]]
    ... key = "smoke"
    ... severity = "critical"
    ... when = [["payload.kind", "==", "alarm"], ["payload.alarm", "==", "smoke"]]
    ... clear_when = [["payload.kind", "==", "sensor_reading"], ["payload.value", "<", 1]]
    ... text_zh = "烟感报警"
    ... text_en = "Smoke alarm"
    ... ''')
    >>> [f.clears for f in evaluate(rules, {"device_id": "D1", "payload": {"kind": "alarm", "alarm": "smoke"}})]
    [False]
    """
    out = []
    for rule in rules:
        if rule.kind is not RuleKind.EVENT:
            continue
        if all(c.holds(event) for c in rule.when):
            out.append(Firing(rule, rule.dedup_key(event), clears=False))
        elif rule.clear_when and all(c.holds(event) for c in rule.clear_when):
            out.append(Firing(rule, rule.dedup_key(event), clears=True))
    return out


def _conditions(rule_key: str, name: str, raw: Any) -> tuple[Condition, ...]:
    if not isinstance(raw, list):
        raise RuleError(f"rule {rule_key!r}: {name} must be a list of [path, op, value]")
    conds = []
    for item in raw:
        if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str) and item[1] in _OPS):
            raise RuleError(f"rule {rule_key!r}: {name} entry {item!r} must be [path, one of {sorted(_OPS)}, value]")
        conds.append(Condition(item[0], item[1], item[2]))
    return tuple(conds)


def parse_rules(text: str) -> list[Rule]:
    """Parse a TOML rule file (``[[rule]]`` tables); raise RuleError naming the rule and key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"rule file is not valid TOML: {exc}") from exc
    return rules_from(data)


def rules_from(data: Mapping[str, Any]) -> list[Rule]:
    """Build the rules of an already parsed rule file."""
    rules = []
    seen: set[str] = set()
    for raw in data.get("rule", []):
        key = raw.get("key")
        if not isinstance(key, str) or not key:
            raise RuleError(f"a rule without a key: {raw!r}")
        if key in seen:
            raise RuleError(f"rule {key!r} is declared twice")
        seen.add(key)
        try:
            severity = Severity[str(raw.get("severity", "")).upper()]
        except KeyError:
            raise RuleError(f"rule {key!r}: severity must be one of {[s.name.lower() for s in Severity]}") from None
        try:
            kind = RuleKind(raw.get("kind", RuleKind.EVENT.value))
        except ValueError:
            raise RuleError(f"rule {key!r}: kind must be one of {[k.value for k in RuleKind]}") from None
        minutes = raw.get("minutes", 0)
        if kind is RuleKind.EVENT:
            when = _conditions(key, "when", raw.get("when"))
        elif "when" in raw or "clear_when" in raw:
            raise RuleError(f"rule {key!r}: a {kind.value} rule has no when/clear_when (it is not fired by one event)")
        else:
            when = ()
        extra: dict[str, Any] = {}
        if kind is RuleKind.UNIT_WINDOW:
            extra = window_params(key, raw)
        if kind is RuleKind.DEVICE_OFFLINE and (
            not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 1
        ):
            raise RuleError(f"rule {key!r}: a device_offline rule needs minutes = a whole number of at least 1")
        rules.append(
            Rule(
                key=key,
                severity=severity,
                when=when,
                clear_when=_conditions(key, "clear_when", raw.get("clear_when", [])),
                group_by=tuple(raw.get("group_by", ["device_id"])),
                text_zh=str(raw.get("text_zh", key)),
                text_en=str(raw.get("text_en", key)),
                category=str(raw.get("category", "Safety")),
                kind=kind,
                minutes=int(minutes) if kind is RuleKind.DEVICE_OFFLINE else 0,
                extra=extra,
            )
        )
    return rules


_WINDOW_LEVELS = ("grid", "community", "street", "district", "city")


def window_params(key: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check and return the parameters of a unit_window rule (see domain.window_rules)."""
    level, window, counter = raw.get("level"), raw.get("window", "hour"), raw.get("counter")
    if level not in _WINDOW_LEVELS:
        raise RuleError(f"rule {key!r}: level must be one of {list(_WINDOW_LEVELS)}")
    if window not in ("minute", "hour", "today"):
        raise RuleError(f"rule {key!r}: window must be minute, hour or today")
    if not isinstance(counter, str) or not counter:
        raise RuleError(f"rule {key!r}: counter names what is counted (e.g. g.unregistered, or activity)")
    out: dict[str, Any] = {"level": level, "window": window, "counter": counter}
    for name in ("threshold", "factor", "min_events"):
        value = raw.get(name)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise RuleError(f"rule {key!r}: {name} must be a positive number")
            out[name] = float(value)
    if ("threshold" in out) == ("factor" in out):
        raise RuleError(f"rule {key!r}: give either threshold (absolute) or factor (times the unit's own hourly rate)")
    return out
