"""Alerts in SQL: grouped occurrences, race-free acknowledgement, escalation, and the lifecycle steps.

Recording is one upsert per dedup key and batch (``INSERT … ON CONFLICT (dedup_key) WHERE open
DO UPDATE count = count + n``) on a unique partial index that allows one open alert per dedup
key, so dedup stays exact across processes without a lookup first; an event already counted
(its event_id is stored) changes nothing. Concurrent callers share transactions (group commit).
Acknowledging is one conditional UPDATE (``… WHERE state = 'new'``): when two people press
at the same moment exactly one row update succeeds, and the other is told who owns it.
Escalating is one UPDATE conditional on ``version``, so two escalators never both move an alert.
Every step moves ``version`` forward, so screens can tell which state is newer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, DateTime, Engine, Row, Table, bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from domain.alerts import AlertState, InvalidTransition, Severity, can_transition
from domain.escalation import EscalationPolicy
from storage.alert_models import OPEN_WHERE, AlertEventRow, AlertRow, AlertStepRow
from storage.alert_writes import AlertWriter, UpsertRow, writer_for
from storage.group_commit import GroupCommit

__all__ = ["AckResult", "AlertRecord", "AlertRepository", "Occurrence"]

_A = cast(Table, AlertRow.__table__)
_E = cast(Table, AlertEventRow.__table__)
_S = cast(Table, AlertStepRow.__table__)
_LIVE_STATES = tuple(s.value for s in AlertState if s is not AlertState.CLOSED)  # an IN list the index can use
_CHUNK = 500  # ids per IN (...) lookup
_RETRIES = 3
_CLEAR = (
    update(_A)
    .where(_A.c.dedup_key == bindparam("b_key"), text(OPEN_WHERE))
    .values(cleared_at=bindparam("b_ts", type_=DateTime(timezone=True)), version=_A.c.version + 1)
    .returning(_A.c.id)
)


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
    level_code: str = ""
    escalation_step: int = 0
    escalates_at: datetime | None = None

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
            "level_code": self.level_code,
            "level_name": unit_name(self.level_code),
            "escalation_step": self.escalation_step,
            "escalates_at": self.escalates_at.isoformat() if self.escalates_at is not None else None,
        }


@dataclass(slots=True)
class _Segment:
    """A run of consecutive firings (or clearings) of one dedup key inside a batch, by occurrence index."""

    clears: bool
    indices: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AckResult:
    """Whether this caller became the owner, and the alert as it now stands."""

    won: bool
    alert: AlertRecord


class AlertRepository:
    """Record occurrences and move alerts through their lifecycle."""

    def __init__(self, engine: Engine, escalation: EscalationPolicy | None = None, *, fast: bool = True) -> None:
        self._engine = engine
        self._escalation = escalation or EscalationPolicy()
        self._fast = fast  # SQLite: write batches through the driver (storage/alert_writes.py)
        self._group: GroupCommit[Sequence[Occurrence], list[int]] = GroupCommit(self._record_group)

    @property
    def group_stats(self) -> tuple[int, int]:
        """(transactions, record calls) served so far: how much group commit shared."""
        return self._group.groups, self._group.requests

    def record(self, occurrences: Sequence[Occurrence]) -> list[int]:
        """Apply firings and clearings in one transaction; return the ids of the alerts that changed.

        An event already counted (same event_id) changes nothing, so a redelivered batch is harmless.
        Calls from several threads at once share a transaction; each returns once its own is committed.
        """
        if not occurrences:
            return []
        return self._group.submit(occurrences)

    def _record_group(self, requests: Sequence[Sequence[Occurrence]]) -> list[list[int]]:
        flat = [occ for request in requests for occ in request]
        for attempt in range(_RETRIES):
            try:
                with self._engine.begin() as conn:
                    ids = self._apply(conn, flat)
                break
            except (IntegrityError, sqlite3.IntegrityError):  # the second: from the SQLite driver writer
                # Another process counted one of these events between our lookup and our insert: look again.
                if attempt == _RETRIES - 1:
                    raise
        out: list[list[int]] = []
        start = 0
        for request in requests:
            out.append([i for i in ids[start : start + len(request)] if i is not None])
            start += len(request)
        return out

    def _apply(self, conn: Connection, occs: Sequence[Occurrence]) -> list[int | None]:
        """Apply a batch in order; return per occurrence the alert it changed (None: nothing changed)."""
        writer = writer_for(conn, fast=self._fast)
        counted = writer.counted(list(dict.fromkeys(o.event_id for o in occs)))
        by_key: dict[str, list[_Segment]] = {}
        for i, occ in enumerate(occs):
            if occ.event_id in counted:
                continue
            counted.add(occ.event_id)
            segments = by_key.setdefault(occ.dedup_key, [])
            if not segments or segments[-1].clears != occ.clears:
                segments.append(_Segment(occ.clears))
            segments[-1].indices.append(i)
        changed: list[int | None] = [None] * len(occs)
        # Round r applies the r-th segment of every key: order within a key is kept (fire, clear,
        # fire again re-arms), and keys are independent, so each round is one statement per kind.
        for r in range(max((len(segs) for segs in by_key.values()), default=0)):
            fires = [segs[r] for segs in by_key.values() if len(segs) > r and not segs[r].clears]
            clears = [segs[r] for segs in by_key.values() if len(segs) > r and segs[r].clears]
            if fires:
                self._fire(writer, occs, fires, changed)
            for seg in clears:
                self._clear(conn, occs, seg, changed)
        events = [(occs[i].event_id, a, occs[i].ts) for i, a in enumerate(changed) if a is not None]
        if events:
            writer.insert_events(events)
        return changed

    def _fire(
        self, writer: AlertWriter, occs: Sequence[Occurrence], segments: list[_Segment], changed: list[int | None]
    ) -> None:
        rows: list[UpsertRow] = []
        for seg in segments:
            first = occs[seg.indices[0]]
            if len(seg.indices) == 1:
                first_seen = last_seen = _utc_in(first.ts)
            else:
                times = [_utc_in(occs[i].ts) for i in seg.indices]
                first_seen, last_seen = min(times), times[-1]
            due = self._escalation.first_deadline(first.severity, first_seen)
            rows.append(
                (
                    first.rule_key,
                    first.dedup_key,
                    int(first.severity),
                    first.unit_code,
                    first.text,
                    first_seen,
                    last_seen,
                    len(seg.indices),
                    due,
                )
            )
        ids = writer.upsert(rows)
        for seg in segments:
            alert_id = ids[occs[seg.indices[0]].dedup_key]
            for i in seg.indices:
                changed[i] = alert_id

    @staticmethod
    def _clear(conn: Connection, occs: Sequence[Occurrence], seg: _Segment, changed: list[int | None]) -> None:
        first = occs[seg.indices[0]]  # the first clearing ends it; the rest of the run finds nothing open
        alert_id = conn.execute(_CLEAR, {"b_key": first.dedup_key, "b_ts": _utc_in(first.ts)}).scalar()
        changed[seg.indices[0]] = alert_id

    def acknowledge(self, alert_id: int, actor: str, note: str = "", now: datetime | None = None) -> AckResult:
        """Take ownership if nobody has; otherwise report the owner. Raises KeyError for an unknown id."""
        ts = _utc_in(now or datetime.now(UTC))
        with self._engine.begin() as conn:
            won = (
                conn.execute(
                    update(_A)
                    .where(_A.c.id == alert_id, _A.c.state == AlertState.NEW.value)
                    .values(
                        state=AlertState.ACKNOWLEDGED.value,
                        acked_by=actor,
                        acked_at=ts,
                        escalates_at=None,
                        version=_A.c.version + 1,
                    )
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
        ts = _utc_in(now or datetime.now(UTC))
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
                .values(cleared_at=_utc_in(now or datetime.now(UTC)), version=_A.c.version + 1)
            )

    # -- escalation ------------------------------------------------------------------------------
    def due_for_escalation(self, now: datetime, limit: int = 500) -> list[AlertRecord]:
        """Unacknowledged alerts whose deadline has passed, the most overdue first."""
        stmt = (
            select(_A)
            .where(_A.c.state == AlertState.NEW.value, _A.c.escalates_at <= _utc_in(now))
            .order_by(_A.c.escalates_at)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [_record(r) for r in conn.execute(stmt)]

    def escalate(
        self,
        alert: AlertRecord,
        *,
        level_code: str,
        step: int,
        escalates_at: datetime | None,
        actor: str,
        note: str,
        now: datetime,
    ) -> AlertRecord | None:
        """Move an unacknowledged alert to another level if nobody changed it since it was read; else None.

        The UPDATE is conditional on the version read, so two escalators (or an escalator and an
        acknowledgement) racing on one alert move it once. A ``step`` equal to the current one only
        disarms the deadline (the alert is at the top) and stores no step.
        """
        ts = _utc_in(now)
        with self._engine.begin() as conn:
            moved = conn.execute(
                update(_A)
                .where(_A.c.id == alert.id, _A.c.version == alert.version, _A.c.state == AlertState.NEW.value)
                .values(
                    level_code=level_code,
                    escalation_step=step,
                    escalates_at=_utc_in(escalates_at) if escalates_at is not None else None,
                    version=_A.c.version + 1,
                )
            ).rowcount
            if moved != 1:
                return None
            if step != alert.escalation_step:
                self._step(conn, alert.id, ts, actor, AlertState.NEW, AlertState.NEW, note)
        return self.get(alert.id)

    # -- reading ---------------------------------------------------------------------------------
    def get(self, alert_id: int) -> AlertRecord:
        """Load one alert; KeyError if there is none."""
        with self._engine.connect() as conn:
            row = conn.execute(select(_A).where(_A.c.id == alert_id)).first()
        if row is None:
            raise KeyError(alert_id)
        return _record(row)

    def get_many(self, alert_ids: Iterable[int]) -> list[AlertRecord]:
        """Load alerts by id in one round trip per 500, in the order asked (unknown ids are left out)."""
        wanted = list(dict.fromkeys(alert_ids))
        found: dict[int, AlertRecord] = {}
        with self._engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                for r in conn.execute(select(_A).where(_A.c.id.in_(wanted[start : start + _CHUNK]))):
                    found[r.id] = _record(r)
        return [found[i] for i in wanted if i in found]

    def alert_of_event(self, event_id: str) -> int | None:
        """The alert an event was counted into, if it was."""
        with self._engine.connect() as conn:
            found = conn.execute(select(_E.c.alert_id).where(_E.c.event_id == event_id)).scalar()
        return int(found) if found is not None else None

    def open_alerts(self, limit: int = 500) -> list[AlertRecord]:
        """Alerts not yet closed, most severe and newest first."""
        stmt = (
            select(_A)
            .where(_A.c.state.in_(_LIVE_STATES))
            .order_by(_A.c.severity.desc(), _A.c.last_seen.desc())
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [_record(r) for r in conn.execute(stmt)]

    def open_dedup_keys(self, prefix: str) -> list[str]:
        """Dedup keys starting with prefix whose alert is open (neither cleared nor closed)."""
        # A range on the key (not LIKE) so the unique partial index on open alerts serves it.
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        stmt = select(_A.c.dedup_key).where(_A.c.dedup_key >= prefix, _A.c.dedup_key < upper, text(OPEN_WHERE))
        with self._engine.connect() as conn:
            return list(conn.execute(stmt).scalars())

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


def _utc_in(value: datetime) -> datetime:
    """Store every time in UTC: SQLite keeps the wall clock only, and deadlines are compared as text there."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
        r.level_code,
        r.escalation_step,
        _utc(r.escalates_at),
    )
