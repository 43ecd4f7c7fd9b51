"""Escalation: overdue unacknowledged alerts move up the grid tree, one level per deadline.

One worker at a time escalates (a Redis lease, like the map aggregator). Each tick it reads
the alerts whose deadline has passed, asks ``domain.escalation.next_step`` where each goes,
and moves it with an UPDATE conditional on the version it read: an acknowledgement or
another escalator that got there first wins, and the alert moves once. Every move is stored
as an alert step and audited, and the alert is pushed again with ``renotify`` so the new
level's screens sound.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import redis

from domain.escalation import EscalationPolicy, next_step
from geo.hierarchy import Hierarchy
from runtime.alert_sink import AlertAnnouncer
from runtime.leased_loop import LeasedLoop, utc_now
from storage.alert_repository import AlertRecord, AlertRepository
from storage.audit_repository import AuditRepository
from streams.keys import RedisKeys

__all__ = ["ACTOR", "Escalator"]

log = logging.getLogger(__name__)
ACTOR = "system:escalation"
_ATTEMPTS = 3  # a repeat occurrence bumps the version too; read again rather than wait a tick


class Escalator(LeasedLoop[list[AlertRecord]]):
    """Move overdue unacknowledged alerts one rung up the ladder and notify that level."""

    name = "escalator"

    def __init__(
        self,
        client: redis.Redis,
        keys: RedisKeys,
        alerts: AlertRepository,
        audit: AuditRepository,
        hierarchy: Hierarchy,
        policy: EscalationPolicy,
        *,
        owner: str,
        interval_s: float = 1.0,
        batch: int = 500,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(client, keys.escalator_lease, owner=owner, interval_s=interval_s, clock=clock)
        self._alerts = alerts
        self._audit = audit
        self._h = hierarchy
        self._policy = policy
        self._batch = batch
        self._announcer = AlertAnnouncer(alerts, hierarchy, client, keys)

    def work(self, now: datetime) -> list[AlertRecord]:
        """Escalate every alert due at ``now``; return them as they now stand."""
        moved = []
        for alert in self._alerts.due_for_escalation(now, limit=self._batch):
            done = self._escalate(alert, now)
            if done is not None:
                moved.append(done)
        self._announcer.publish(moved, renotify=True)
        return moved

    def _chain(self, code: str) -> list[tuple[str, str]]:
        if code not in self._h:
            return []
        return [(c, self._h.get(c).level.name.lower()) for c in (code, *self._h.ancestors(code))]

    def _escalate(self, alert: AlertRecord, now: datetime) -> AlertRecord | None:
        for _ in range(_ATTEMPTS):
            nxt = next_step(
                self._policy,
                severity=alert.severity,
                step=alert.escalation_step,
                level_code=alert.level_code,
                escalates_at=alert.escalates_at,
                chain=self._chain(alert.unit_code),
                now=now,
            )
            if nxt is None:  # at the top of the ladder (or off the map): stop its clock, nobody to tell
                self._alerts.escalate(
                    alert,
                    level_code=alert.level_code,
                    step=alert.escalation_step,
                    escalates_at=None,
                    actor=ACTOR,
                    note="",
                    now=now,
                )
                return None
            note = f"{alert.level_code} → {nxt.level_code} ({nxt.level}, step {nxt.step})"
            done = self._alerts.escalate(
                alert,
                level_code=nxt.level_code,
                step=nxt.step,
                escalates_at=nxt.escalates_at,
                actor=ACTOR,
                note=note,
                now=now,
            )
            if done is not None:
                self._audit.append(
                    ACTOR,
                    "alert.escalate",
                    f"alert:{alert.id}",
                    detail={
                        "unit": alert.unit_code,
                        "from": alert.level_code,
                        "to": nxt.level_code,
                        "level": nxt.level,
                        "step": nxt.step,
                    },
                    now=now,
                )
                log.info("alert %d escalated: %s", alert.id, note)
                return done
            try:
                alert = self._alerts.get(alert.id)
            except KeyError:
                return None
            if alert.escalates_at is None or alert.escalates_at > now:
                return None  # acknowledged, or another escalator moved it meanwhile
        return None
