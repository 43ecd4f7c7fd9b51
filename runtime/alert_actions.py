"""What people do with alerts, once for every door: the REST API and the duty page call the same steps.

Each step is stored (the repository decides races: one owner, one state change at a time),
audited, and announced to the screens with the next alert sequence number. Permission and
jurisdiction are checked before a step is called, by the guard of the endpoint or callback;
``unit_of`` gives those guards the unit of an alert without revealing whether it exists.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis

from domain.alerts import AlertState, InvalidTransition, Rule
from domain.permissions import Principal, in_scope
from geo.hierarchy import Hierarchy
from storage.alert_repository import AlertRecord, AlertRepository
from storage.audit_repository import AuditRepository
from streams.alert_push import current_alert_seq, publish_alerts
from streams.keys import RedisKeys

__all__ = ["AlertActions", "AlertListing", "MissingInput", "Outcome"]

log = logging.getLogger(__name__)
UNKNOWN_UNIT = "?"  # the unit of an alert that does not exist: out of everyone's scope


class MissingInput(ValueError):
    """A step asked for without what it needs (a dispatch must say to whom)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The alert as it now stands, and whether this caller's step took effect (if not, why)."""

    alert: AlertRecord
    done: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AlertListing:
    """Open alerts in wire form, and the sequence number read before them (where pushes take over)."""

    seq: int
    alerts: list[dict[str, Any]]


class AlertActions:
    """List, acknowledge, dispatch, resolve and close alerts on behalf of a person."""

    def __init__(
        self,
        alerts: AlertRepository,
        audit: AuditRepository,
        hierarchy: Hierarchy,
        client: redis.Redis,
        keys: RedisKeys,
        rules: Sequence[Rule],
    ) -> None:
        self.alerts = alerts
        self._audit = audit
        self._h = hierarchy
        self._r = client
        self._keys = keys
        self._self_clearing = frozenset(r.key for r in rules if r.clears_itself)

    # -- reading ----------------------------------------------------------------------------------
    def unit_of(self, alert_id: object) -> str:
        """The unit of an alert; unknown or malformed ids look exactly like out-of-scope ones."""
        try:
            return self.alerts.get(int(alert_id)).unit_code  # type: ignore[call-overload]
        except (KeyError, TypeError, ValueError, OverflowError):
            return UNKNOWN_UNIT

    def name_of(self, code: str) -> str:
        """The name of a unit (its code if unknown)."""
        return self._h.get(code).name if code in self._h else code

    def wire(self, alert: AlertRecord) -> dict[str, Any]:
        """The JSON form screens and the API use."""
        return alert.to_wire(self.name_of)

    def open_for(
        self, principal: Principal, *, severity: str | None = None, unit: str | None = None, limit: int = 500
    ) -> AlertListing:
        """Open alerts inside the principal's unit, most severe and newest first, optionally filtered."""
        seq = current_alert_seq(self._r, self._keys)  # before the read: anything later arrives by push
        out = []
        for a in self.alerts.open_alerts(limit=2000):
            if not in_scope(principal.unit_code, a.unit_code, self._h.ancestors):
                continue
            if unit and not in_scope(unit, a.unit_code, self._h.ancestors):
                continue
            if severity and a.severity.name.lower() != severity:
                continue
            out.append(self.wire(a))
            if len(out) >= limit:
                break
        return AlertListing(seq, out)

    # -- acting -----------------------------------------------------------------------------------
    def acknowledge(self, alert_id: int, actor: str, comment: str, ip: str) -> Outcome:
        """Take ownership; if someone was faster, the outcome names them (exactly one owner, ever)."""
        result = self.alerts.acknowledge(alert_id, actor, comment[:500])
        a = result.alert
        self._record("alert.ack", actor, ip, a, "ok" if result.won else "lost", owner=a.acked_by)
        if result.won:
            self._announce(a)
        return Outcome(a, result.won, "" if result.won else f"owned by {a.acked_by}")

    def dispatch(self, alert_id: int, actor: str, to: str, note: str, ip: str) -> Outcome:
        """Send an acknowledged alert to a grid worker or unit; ``to`` must name them."""
        to = to.strip()[:128]
        if not to:
            raise MissingInput("'to' names who handles it")
        return self._step(alert_id, AlertState.DISPATCHED, actor, note, ip, dispatched_to=to)

    def resolve(self, alert_id: int, actor: str, note: str, ip: str) -> Outcome:
        """Record how it was handled."""
        return self._step(alert_id, AlertState.RESOLVED, actor, note, ip)

    def close(self, alert_id: int, actor: str, note: str, ip: str) -> Outcome:
        """Close a resolved alert whose condition has cleared (one-off events clear when resolved)."""
        a = self.alerts.get(alert_id)
        if a.cleared_at is None and a.rule_key not in self._self_clearing:
            self.alerts.mark_cleared(alert_id)  # a button press or a red code is over once resolved
        return self._step(alert_id, AlertState.CLOSED, actor, note, ip)

    def _step(self, alert_id: int, target: AlertState, actor: str, note: str, ip: str, **kwargs: Any) -> Outcome:
        note = note[:2000]
        action = f"alert.{target.value}"
        try:
            a = self.alerts.transition(alert_id, target, actor, note, **kwargs)
        except InvalidTransition as exc:
            current = self.alerts.get(alert_id)
            self._record(action, actor, ip, current, "refused", reason=str(exc))
            return Outcome(current, False, str(exc))
        self._record(action, actor, ip, a, note=note)
        self._announce(a)
        return Outcome(a, True)

    def _record(self, action: str, actor: str, ip: str, a: AlertRecord, outcome: str = "ok", **detail: object) -> None:
        self._audit.append(
            actor, action, f"alert:{a.id}", outcome=outcome, ip=ip, detail={"unit": a.unit_code, **detail}
        )

    def _announce(self, a: AlertRecord) -> None:
        """Tell the screens; the step is stored already, so a Redis hiccup must not turn it into an error."""
        try:
            publish_alerts(self._r, self._keys, [self.wire(a)])
        except redis.RedisError as exc:
            log.warning("could not announce alert %d: %s", a.id, exc)
