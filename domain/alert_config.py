"""The whole alert configuration of one rule file: the rules and the escalation policy."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field

from domain.alerts import Rule, RuleError, RuleKind, rules_from
from domain.escalation import EscalationPolicy, parse_escalation

__all__ = ["AlertConfig", "parse_alert_config"]


@dataclass(frozen=True, slots=True)
class AlertConfig:
    """Rules by kind, and how unacknowledged alerts climb the grid tree."""

    rules: tuple[Rule, ...] = ()
    escalation: EscalationPolicy = field(default_factory=EscalationPolicy)

    def of_kind(self, kind: RuleKind) -> tuple[Rule, ...]:
        """The rules of one kind, in file order."""
        return tuple(r for r in self.rules if r.kind is kind)

    def rule(self, key: str) -> Rule:
        """The rule with this key; KeyError if there is none."""
        for r in self.rules:
            if r.key == key:
                return r
        raise KeyError(key)


def parse_alert_config(text: str) -> AlertConfig:
    """Parse a TOML rule file (``[[rule]]`` tables and an optional ``[escalation]`` table).

    >>> config = parse_alert_config('''
    ... [escalation]
    ... ack_s = {critical = 60}
    ... [[rule]]
    ... key = "device_offline"
    ... kind = "device_offline"
    ... severity = "warning"
    ... minutes = 30
    ... ''')
    >>> [r.minutes for r in config.of_kind(RuleKind.DEVICE_OFFLINE)], config.escalation.levels[0]
    ([30], 'grid')
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"rule file is not valid TOML: {exc}") from exc
    return AlertConfig(tuple(rules_from(data)), parse_escalation(data))
