"""Raise and clear the unit_window alerts (visitor surge, hotspot) from the unit aggregates of each tick."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from domain.alerts import Rule, RuleKind
from domain.window_rules import fires
from geo.hierarchy import Hierarchy, Level
from runtime.alert_sink import AlertRaiser
from storage.alert_repository import AlertRepository

__all__ = ["WindowAlerts"]

log = logging.getLogger(__name__)


class WindowAlerts:
    """Watch the changed units of each aggregates tick; fire when a rule's condition starts, clear when it ends."""

    def __init__(
        self, raiser: AlertRaiser, alerts: AlertRepository, rules: Sequence[Rule], hierarchy: Hierarchy
    ) -> None:
        self._raiser = raiser
        self._rules = [r for r in rules if r.kind is RuleKind.UNIT_WINDOW]
        self._level = {u.code: level.name.lower() for level in Level for u in hierarchy.at_level(level)}
        # What is open now (after a restart too): the dedup key of these alerts is "<rule>:<unit>".
        self._firing: dict[str, set[str]] = {
            r.key: {k.split(":", 1)[1] for k in alerts.open_dedup_keys(f"{r.key}:")} for r in self._rules
        }

    def __call__(self, units: Mapping[str, Mapping[str, Any]]) -> None:
        """Judge the units whose figures changed this tick (all of them on the first tick)."""
        for rule in self._rules:
            firing = self._firing[rule.key]
            for code, figures in units.items():
                if self._level.get(code) != rule.extra["level"]:
                    continue
                now_fires = fires(rule.extra, figures)
                if now_fires and code not in firing:
                    self._raiser.raise_external(rule.key, code, code)
                    firing.add(code)
                elif not now_fires and code in firing:
                    self._raiser.clear_external(rule.key, code)
                    firing.discard(code)
