"""Alerts in SQL: grouped occurrences, race-free acknowledgement, and the lifecycle steps.

Acknowledging is one conditional UPDATE (``… WHERE state = 'new'``): when two people press
at the same moment exactly one row update succeeds, and the other is told who owns it.
Every step moves ``version`` forward, so screens can tell which state is newer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Row, Table, insert, select, update

from domain.alerts import AlertState, InvalidTransition, Severity, can_transition
from storage.alert_models import AlertEventRow, AlertRow, AlertStepRow

__all__ = ["AckResult", "AlertRecord", "AlertRepository", "Occurrence"]

_A = cast(Table, AlertRow.__table__)
_E = cast(Table, AlertEventRow.__table__)
_S = cast(Table, AlertStepRow.__table__)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """An event that fired (or cleared) a rule, placed on its grid."""

    event_id: str
    rule_key: str
    dedup_key: str
    severity: Severity
    unit_code: str
    text: str
    clears: bool
    ts: datetime


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One alert as stored."""

    id: int
    rule_key: str
    dedup_key: str
    severity: Severity
    state: AlertState
    unit_code: str
    text: str
    first_seen: datetime
    last_seen: datetime
    count: int
    cleared_at: datetime | None
    acked_by: str | None
    acked_at: datetime | None
    dispatched_to: str | None
    note: str | None
    closed_at: datetime | None
    version: int

    def to_wire(self, unit_name: Callable[[str], str]) -> dict[str, Any]:
        """The JSON form screens and the API use (no personal data in an alert)."""
        return {
            "id": self.id,
            "rule": self.rule_key,
            "severity": self.severity.name.lower(),
            "state": self.state.value,
            "unit": self.unit_code,
            "unit_name": unit_name(self.unit_code),
            "text": self.text,
            "count": self.count,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "cleared": self.cleared_at is not None,
            "owner": self.acked_by,
            "dispatched_to": self.dispatched_to,
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class AckResult:
    """Whether this caller became the owner, and the alert as it now stands."""

    won: bool
    alert: AlertRecord


class AlertRepository:
    """Record occurrences and move alerts through their lifecycle."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, occurrences: Sequence[Occurrence]) -> list[int]:
        """Apply firings and clearings in one transaction; return the ids of the alerts that changed.

        An event already counted (same event_id) changes nothing, so a redelivered batch is harmless.
        """
        changed: list[int] = []
        with self._engine.begin() as conn:
            for occ in occurrences:
                if conn.execute(select(_E.c.alert_id).where(_E.c.event_id == occ.event_id)).first():
                    continue
                open_id = conn.execute(
                    select(_A.c.id)
                    .where(
                        _A.c.dedup_key == occ.dedup_key,
                        _A.c.cleared_at.is_(None),
                        _A.c.state != AlertState.CLOSED.value,
                    )
                    .order_by(_A.c.id.desc())
                    .limit(1)
                ).scalar()
                if occ.clears:
                    if open_id is not None:
                        conn.execute(
                            update(_A).where(_A.c.id == open_id).values(cleared_at=occ.ts, version=_A.c.version + 1)
                        )
                        changed.append(open_id)
                    continue
                if open_id is None:
                    inserted = (
                        conn.execute(
                            insert(_A).values(
                                rule_key=occ.rule_key,
                                dedup_key=occ.dedup_key,
                                severity=int(occ.severity),
                                state=AlertState.NEW.value,
                                unit_code=occ.unit_code,
                                text=occ.text,
                                first_seen=occ.ts,
                                last_seen=occ.ts,
                                count=1,
                                version=1,
                            )
                        )
                    ).inserted_primary_key
                    assert inserted is not None
                    open_id = int(inserted[0])
                else:
                    conn.execute(
                        update(_A)
                        .where(_A.c.id == open_id)
                        .values(count=_A.c.count + 1, last_seen=occ.ts, version=_A.c.version + 1)
                    )
                conn.execute(insert(_E).values(event_id=occ.event_id, alert_id=open_id, ts=occ.ts))
                changed.append(open_id)
        return changed

    def acknowledge(self, alert_id: int, actor: str, note: str = "", now: datetime | None = None) -> AckResult:
        """Take ownership if nobody has; otherwise report the owner. Raises KeyError for an unknown id."""
        ts = now or datetime.now(UTC)
        with self._engine.begin() as conn:
            won = (
                conn.execute(
                    update(_A)
                    .where(_A.c.id == alert_id, _A.c.state == AlertState.NEW.value)
                    .values(state=AlertState.ACKNOWLEDGED.value, acked_by=actor, acked_at=ts, version=_A.c.version + 1)
                ).rowcount
                == 1
            )
            if won:
                self._step(conn, alert_id, ts, actor, AlertState.NEW, AlertState.ACKNOWLEDGED, note)
        return AckResult(won, self.get(alert_id))

    def transition(
        self,
        alert_id: int,
        target: AlertState,
        actor: str,
        note: str = "",
        *,
        dispatched_to: str | None = None,
        now: datetime | None = None,
    ) -> AlertRecord:
        """Move an alert one lifecycle step; raise InvalidTransition if its state does not allow it."""
        if target is AlertState.ACKNOWLEDGED:
            raise InvalidTransition("use acknowledge(): it decides the owner")
        ts = now or datetime.now(UTC)
        current = self.get(alert_id)
        if not can_transition(current.state, target):
            raise InvalidTransition(f"alert {alert_id} is {current.state.value}; it cannot become {target.value}")
        if target is AlertState.CLOSED and current.cleared_at is None:
            raise InvalidTransition(f"alert {alert_id} has not cleared yet; it can be closed once it has")
        values: dict[str, Any] = {"state": target.value, "version": _A.c.version + 1}
        if target is AlertState.DISPATCHED:
            values["dispatched_to"] = dispatched_to or ""
        if target is AlertState.RESOLVED:
            values["note"] = note
        if target is AlertState.CLOSED:
            values["closed_at"] = ts
        with self._engine.begin() as conn:
            moved = (
                conn.execute(
                    update(_A).where(_A.c.id == alert_id, _A.c.state == current.state.value).values(**values)
                ).rowcount
                == 1
            )
            if not moved:
                raise InvalidTransition(f"alert {alert_id} changed meanwhile; reload and try again")
            self._step(conn, alert_id, ts, actor, current.state, target, note)
        return self.get(alert_id)

    def mark_cleared(self, alert_id: int, now: datetime | None = None) -> None:
        """Record that an alert's condition is over (for rules that cannot clear by themselves)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(_A)
                .where(_A.c.id == alert_id, _A.c.cleared_at.is_(None))
                .values(cleared_at=now or datetime.now(UTC), version=_A.c.version + 1)
            )

    def get(self, alert_id: int) -> AlertRecord:
        """Load one alert; KeyError if there is none."""
        with self._engine.connect() as conn:
            row = conn.execute(select(_A).where(_A.c.id == alert_id)).first()
        if row is None:
            raise KeyError(alert_id)
        return _record(row)

    def open_alerts(self, limit: int = 500) -> list[AlertRecord]:
        """Alerts not yet closed, most severe and newest first."""
        stmt = (
            select(_A)
            .where(_A.c.state != AlertState.CLOSED.value)
            .order_by(_A.c.severity.desc(), _A.c.last_seen.desc())
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [_record(r) for r in conn.execute(stmt)]

    def steps(self, alert_id: int) -> list[tuple[str, str, str, str]]:
        """The lifecycle of an alert: (actor, from, to, note) in order."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(_S).where(_S.c.alert_id == alert_id).order_by(_S.c.id))
            return [(r.actor, r.from_state, r.to_state, r.note) for r in rows]

    @staticmethod
    def _step(
        conn: Connection, alert_id: int, ts: datetime, actor: str, old: AlertState, new: AlertState, note: str
    ) -> None:
        conn.execute(
            insert(_S).values(
                alert_id=alert_id, ts=ts, actor=actor, from_state=old.value, to_state=new.value, note=note
            )
        )


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _record(r: Row[Any]) -> AlertRecord:
    first_seen, last_seen = _utc(r.first_seen), _utc(r.last_seen)
    assert first_seen is not None and last_seen is not None
    return AlertRecord(
        r.id,
        r.rule_key,
        r.dedup_key,
        Severity(r.severity),
        AlertState(r.state),
        r.unit_code,
        r.text,
        first_seen,
        last_seen,
        r._mapping["count"],  # Row.count is tuple's method
        _utc(r.cleared_at),
        r.acked_by,
        _utc(r.acked_at),
        r.dispatched_to,
        r.note,
        _utc(r.closed_at),
        r.version,
    )
