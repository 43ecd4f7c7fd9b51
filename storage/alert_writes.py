"""How a batch of alert rows reaches the database: portable Core statements, or SQLite's driver directly.

``AlertRepository.record`` needs three statements per batch: which events are counted already,
the upsert of one row per dedup key (returning the ids), and the events counted now. Through
SQLAlchemy Core each costs about 0.1 ms of Python per execute plus bind processing per row, which
is most of the time of a small write; on SQLite the same SQL goes straight to the driver inside
the same transaction, with the times written in exactly the text form SQLAlchemy writes
(``YYYY-MM-DD HH:MM:SS.ffffff``, UTC), so everything reads back the same. Other databases use
the Core writer. The tests run the repository on both.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, DateTime, Table, bindparam, insert, select, text

from storage.alert_models import OPEN_WHERE, AlertEventRow, AlertRow

__all__ = ["AlertWriter", "UpsertRow", "writer_for"]

_A = cast(Table, AlertRow.__table__)
_E = cast(Table, AlertEventRow.__table__)
_TS = DateTime(timezone=True)
CHUNK = 500  # rows per statement: 9 parameters each stays far below SQLite's 32,766

# rule_key, dedup_key, severity, unit_code, text, first_seen, last_seen, count, escalates_at
UpsertRow = tuple[str, str, int, str, str, datetime, datetime, int, datetime | None]
EventRow = tuple[str, int, datetime]  # event_id, alert_id, ts

_COLUMNS = (
    "rule_key, dedup_key, severity, state, unit_code, text, first_seen, last_seen, count,"
    " version, level_code, escalation_step, escalates_at"
)
_CONFLICT = (
    f" ON CONFLICT (dedup_key) WHERE {OPEN_WHERE}"
    " DO UPDATE SET count = alert.count + excluded.count, last_seen = excluded.last_seen,"
    " version = alert.version + 1"
)
# One alert per dedup key, or add to the open one. Written out because SQLAlchemy cannot cache a
# dialect insert with ON CONFLICT (it would compile it on every call); the text is the same in
# SQLite and PostgreSQL, and the conflict target is the partial unique index on open alerts.
_UPSERT = text(
    f"INSERT INTO alert ({_COLUMNS}) VALUES (:rule_key, :dedup_key, :severity, 'new', :unit_code, :text,"  # noqa: S608
    " :first_seen, :last_seen, :count, 1, :unit_code, 0, :escalates_at)" + _CONFLICT
).bindparams(
    bindparam("first_seen", type_=_TS), bindparam("last_seen", type_=_TS), bindparam("escalates_at", type_=_TS)
)
# Built once: building a statement costs more than running it (its cache key).
_COUNTED = select(_E.c.event_id).where(_E.c.event_id.in_(bindparam("ids", expanding=True)))
_OPEN_IDS = select(_A.c.dedup_key, _A.c.id).where(
    _A.c.dedup_key.in_(bindparam("keys", expanding=True)), text(OPEN_WHERE)
)
_INSERT_EVENTS = insert(_E)


class AlertWriter:
    """The three batch statements of ``record``, on one connection inside its transaction."""

    def counted(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these event ids are counted already."""
        raise NotImplementedError

    def upsert(self, rows: Sequence[UpsertRow]) -> dict[str, int]:
        """Insert or add to the open alert of each row's dedup key (unique in rows); return key -> id."""
        raise NotImplementedError

    def insert_events(self, rows: Sequence[EventRow]) -> None:
        """Store the events counted now."""
        raise NotImplementedError


class _CoreWriter(AlertWriter):
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def counted(self, event_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(event_ids), CHUNK):
            found.update(self._conn.execute(_COUNTED, {"ids": list(event_ids[start : start + CHUNK])}).scalars())
        return found

    def upsert(self, rows: Sequence[UpsertRow]) -> dict[str, int]:
        names = ("rule_key", "dedup_key", "severity", "unit_code", "text", "first_seen", "last_seen", "count")
        params = [{**dict(zip(names, r[:8], strict=True)), "escalates_at": r[8]} for r in rows]
        # executemany, then the ids in one lookup: after the upsert, each key has one open alert.
        self._conn.execute(_UPSERT, params)
        keys = [r[1] for r in rows]
        ids: dict[str, int] = {}
        for start in range(0, len(keys), CHUNK):
            ids.update((k, i) for k, i in self._conn.execute(_OPEN_IDS, {"keys": keys[start : start + CHUNK]}))
        return ids

    def insert_events(self, rows: Sequence[EventRow]) -> None:
        self._conn.execute(_INSERT_EVENTS, [{"event_id": e, "alert_id": a, "ts": t} for e, a, t in rows])


def _sqlite_time(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DateTime stores: UTC wall clock with microseconds."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ", timespec="microseconds")


@functools.cache
def _upsert_text(n: int) -> str:
    values = ",".join(["(?, ?, ?, 'new', ?, ?, ?, ?, ?, 1, ?, 0, ?)"] * n)
    return f"INSERT INTO alert ({_COLUMNS}) VALUES {values}{_CONFLICT} RETURNING dedup_key, id"  # noqa: S608


@functools.cache
def _counted_text(n: int) -> str:
    return f"SELECT event_id FROM alert_event WHERE event_id IN ({','.join(['?'] * n)})"  # noqa: S608


class _SqliteWriter(AlertWriter):
    def __init__(self, conn: Connection) -> None:
        self._db: Any = conn.connection.driver_connection  # the sqlite3 connection, in SQLAlchemy's transaction

    def counted(self, event_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(event_ids), CHUNK):
            chunk = event_ids[start : start + CHUNK]
            found.update(r[0] for r in self._db.execute(_counted_text(len(chunk)), chunk).fetchall())
        return found

    def upsert(self, rows: Sequence[UpsertRow]) -> dict[str, int]:
        ids: dict[str, int] = {}
        times: dict[datetime | None, str | None] = {None: None}  # a batch's events often share a time
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            params: list[object] = []
            for rule, key, severity, unit, body, first, last, count, due in chunk:
                for t in (first, last, due):
                    if t not in times:
                        times[t] = _sqlite_time(t)
                params += (rule, key, severity, unit, body, times[first], times[last], count, unit, times[due])
            ids.update(self._db.execute(_upsert_text(len(chunk)), params).fetchall())
        return ids

    def insert_events(self, rows: Sequence[EventRow]) -> None:
        times: dict[datetime, str | None] = {}
        for _, _, t in rows:
            if t not in times:
                times[t] = _sqlite_time(t)
        self._db.executemany(
            "INSERT INTO alert_event (event_id, alert_id, ts) VALUES (?, ?, ?)", [(e, a, times[t]) for e, a, t in rows]
        )


def writer_for(conn: Connection, *, fast: bool = True) -> AlertWriter:
    """The SQLite driver writer on SQLite (unless ``fast`` is off), the Core writer elsewhere."""
    return _SqliteWriter(conn) if fast and conn.dialect.name == "sqlite" else _CoreWriter(conn)
