"""Alert effects of placed events: rules evaluated, occurrences stored in SQL before the XACK.

Also the two other ways an alert starts: ``AlertRaiser`` for rules raised by another feature
(``kind = "external"``, e.g. the cases feature's ``case_overdue``), and the announcer every
alert writer uses to tell the screens.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import redis

from domain.alert_config import AlertConfig, parse_alert_config
from domain.alerts import Rule, RuleKind, evaluate, parse_rules
from domain.events import Event
from geo.hierarchy import Hierarchy
from storage.alert_repository import AlertRecord, AlertRepository, Occurrence
from streams.alert_push import publish_alerts
from streams.keys import RedisKeys

__all__ = ["DEFAULT_RULES", "AlertAnnouncer", "AlertRaiser", "AlertSink", "load_alert_config", "load_rules"]

log = logging.getLogger(__name__)
DEFAULT_RULES = Path(__file__).resolve().parent.parent / "domain" / "alert_rules.toml"


def load_rules(path: Path | None = None) -> list[Rule]:
    """Read and parse a rule file (the shipped one by default)."""
    return parse_rules((path or DEFAULT_RULES).read_text(encoding="utf-8"))


def load_alert_config(path: Path | None = None) -> AlertConfig:
    """Read a rule file's rules and escalation policy (the shipped file by default)."""
    return parse_alert_config((path or DEFAULT_RULES).read_text(encoding="utf-8"))


class AlertAnnouncer:
    """Publish changed alerts on the push channel, for the web processes to route to screens."""

    def __init__(
        self,
        alerts: AlertRepository,
        hierarchy: Hierarchy | None = None,
        client: redis.Redis | None = None,
        keys: RedisKeys | None = None,
    ) -> None:
        self._alerts = alerts
        self._hierarchy = hierarchy
        self._client = client
        self._keys = keys

    def unit_name(self, code: str) -> str:
        """A unit's name, or its code if the map does not know it."""
        h = self._hierarchy
        return h.get(code).name if h is not None and code in h else code

    def announce(self, changed: Iterable[int], *, renotify: bool = False) -> None:
        """Load and publish these alerts (best effort: a screen that misses it resyncs from the API)."""
        if self._client is None or self._keys is None:
            return
        ids = list(dict.fromkeys(changed))
        if ids:
            self.publish(self._alerts.get_many(ids), renotify=renotify)

    def publish(self, records: Sequence[AlertRecord], *, renotify: bool = False) -> None:
        """Publish alerts already loaded; ``renotify`` asks screens to sound again (an escalation)."""
        if not records or self._client is None or self._keys is None:
            return
        items = [a.to_wire(self.unit_name) for a in records]
        try:
            publish_alerts(self._client, self._keys, items, renotify=renotify)  # numbered: a gap means a miss
        except redis.RedisError as exc:
            log.warning("could not announce %d alerts: %s", len(records), exc)


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
        self._announcer = AlertAnnouncer(alerts, hierarchy, client, keys)
        self._rules = [r for r in rules if r.kind is RuleKind.EVENT]
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

    @property
    def kinds(self) -> frozenset[str] | None:
        """The payload kinds some rule looks at (None: the rules may look at any)."""
        return self._kinds or None

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
            self._announcer.announce(self.changed)


class AlertRaiser:
    """Raise and clear alerts of ``kind = "external"`` rules: the hook other features call.

    The cases feature, for example, calls ``raise_external("case_overdue", case_id, unit, text, now)``
    when a case passes its deadline and ``clear_external("case_overdue", case_id, now)`` when it is
    done. Repeats for one source are one alert with a count, exactly as for device events; the alert
    then escalates, is acknowledged and closed like any other.
    """

    def __init__(
        self,
        alerts: AlertRepository,
        rules: Sequence[Rule],
        hierarchy: Hierarchy | None = None,
        announcer: AlertAnnouncer | None = None,
    ) -> None:
        self._alerts = alerts
        self._rules = {r.key: r for r in rules if r.kind in (RuleKind.EXTERNAL, RuleKind.UNIT_WINDOW)}
        self._hierarchy = hierarchy
        self._announcer = announcer

    def _rule(self, rule_key: str) -> Rule:
        rule = self._rules.get(rule_key)
        if rule is None:
            raise ValueError(f'no external rule {rule_key!r} in the rule file (kind = "external")')
        return rule

    def raise_external(
        self,
        rule_key: str,
        source_key: str,
        unit_code: str,
        text: str | None = None,
        now: datetime | None = None,
        *,
        event_id: str | None = None,
    ) -> int:
        """Fire an external rule for one source (a case id) on a unit; return the alert's id.

        Pass ``event_id`` to make a retried call count once.
        """
        rule = self._rule(rule_key)
        if not source_key:
            raise ValueError("source_key names what the alert is about (e.g. the case id)")
        if self._hierarchy is not None and unit_code not in self._hierarchy:
            raise ValueError(f"unknown unit {unit_code!r}")
        occ = Occurrence(
            event_id=event_id or f"{uuid.uuid4()}:{rule.key}",
            rule_key=rule.key,
            dedup_key=f"{rule.key}:{source_key}",
            severity=rule.severity,
            unit_code=unit_code,
            text=text or rule.text_zh,
            clears=False,
            ts=now or datetime.now(UTC),
        )
        changed = self._alerts.record([occ])
        if self._announcer is not None:
            self._announcer.announce(changed)
        if changed:
            return changed[0]
        counted = self._alerts.alert_of_event(occ.event_id)  # a retried call: the alert it was counted into
        assert counted is not None
        return counted

    def clear_external(self, rule_key: str, source_key: str, now: datetime | None = None) -> int | None:
        """Clear the open alert of an external rule for one source; return its id, or None if none was open."""
        rule = self._rule(rule_key)
        occ = Occurrence(
            event_id=f"{uuid.uuid4()}:{rule.key}:clear",
            rule_key=rule.key,
            dedup_key=f"{rule.key}:{source_key}",
            severity=rule.severity,
            unit_code="",
            text="",
            clears=True,
            ts=now or datetime.now(UTC),
        )
        changed = self._alerts.record([occ])
        if self._announcer is not None:
            self._announcer.announce(changed)
        return changed[0] if changed else None
