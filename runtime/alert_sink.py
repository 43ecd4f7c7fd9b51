"""Alert effects of placed events: rules evaluated, occurrences stored in SQL before the XACK."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import redis

from domain.alerts import Rule, evaluate, parse_rules
from domain.events import Event
from geo.hierarchy import Hierarchy
from storage.alert_repository import AlertRepository, Occurrence
from streams.alert_push import publish_alerts
from streams.keys import RedisKeys

__all__ = ["DEFAULT_RULES", "AlertSink", "load_rules"]

log = logging.getLogger(__name__)
DEFAULT_RULES = Path(__file__).resolve().parent.parent / "domain" / "alert_rules.toml"


def load_rules(path: Path | None = None) -> list[Rule]:
    """Read and parse a rule file (the shipped one by default)."""
    return parse_rules((path or DEFAULT_RULES).read_text(encoding="utf-8"))


class AlertSink:
    """The worker's EventSink for alerts."""

    def __init__(
        self,
        alerts: AlertRepository,
        rules: Sequence[Rule],
        hierarchy: Hierarchy | None = None,
        client: redis.Redis | None = None,
        keys: RedisKeys | None = None,
    ) -> None:
        self._alerts = alerts
        self._hierarchy = hierarchy
        self._client = client
        self._keys = keys
        self._rules = list(rules)
        self.changed: list[int] = []
        # Skip events no rule can match (heartbeats are a third of the traffic) before paying for a dump.
        kinds: set[str] = set()
        for rule in self._rules:
            wanted = {c.value for c in (*rule.when, *rule.clear_when) if c.path == "payload.kind" and c.op == "=="}
            if not wanted:
                kinds = set()
                break
            kinds |= wanted
        self._kinds = frozenset(kinds)

    def on_events(self, placed: Sequence[tuple[Event, str]]) -> None:
        """Evaluate every rule on every event; store firings and clearings in one transaction."""
        occurrences = []
        for event, grid in placed:
            if self._kinds and event.payload.kind not in self._kinds:
                continue
            for f in evaluate(self._rules, event.model_dump(mode="json")):
                occurrences.append(
                    Occurrence(
                        event_id=f"{event.event_id}:{f.rule.key}",
                        rule_key=f.rule.key,
                        dedup_key=f.dedup_key,
                        severity=f.rule.severity,
                        unit_code=grid,
                        text=f.rule.text_zh,
                        clears=f.clears,
                        ts=event.ts,
                    )
                )
        if occurrences:
            self.changed = self._alerts.record(occurrences)
            self._announce(self.changed)

    def _announce(self, changed: Sequence[int]) -> None:
        """Tell the screens (best effort: a screen that misses it resyncs from the API)."""
        if not changed or self._client is None or self._keys is None:
            return
        h = self._hierarchy

        def name(code: str) -> str:
            return h.get(code).name if h is not None and code in h else code

        items = [self._alerts.get(i).to_wire(name) for i in dict.fromkeys(changed)]
        try:
            publish_alerts(self._client, self._keys, items)
        except redis.RedisError as exc:
            log.warning("could not announce %d alerts: %s", len(items), exc)
