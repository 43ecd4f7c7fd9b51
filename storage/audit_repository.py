"""The audit trail in SQL: appended under the hash chain, verified, searched."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Row, func, insert, select
from sqlalchemy.exc import IntegrityError

from domain.audit import GENESIS, AuditEntry, ChainBreak, entry_hash, first_break
from storage.models import AuditRow

__all__ = ["AuditQuery", "AuditRepository"]

_RETRIES = 20
_T = AuditRow.__table__


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters for searching the trail."""

    actor: str | None = None
    action: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 200


class AuditRepository:
    """Append-only access to the audit trail."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()

    def append(
        self,
        actor: str,
        action: str,
        target: str = "",
        *,
        outcome: str = "ok",
        ip: str = "",
        detail: Mapping[str, object] | None = None,
        now: datetime | None = None,
    ) -> AuditEntry:
        """Add one entry at the head of the chain; retry if another writer got there first."""
        info = dict(detail or {})
        if len(actor) > 96 or len(target) > 256:
            raise ValueError("audit actor or target too long")
        # What is hashed is exactly what is stored, so a long value never looks like tampering.
        action, outcome, ip = action[:64], outcome[:16], ip[:64]
        with self._lock:  # one writer at a time in this process; the unique keys settle other processes
            return self._append(actor, action, target, outcome, ip, info, now)

    def _append(
        self,
        actor: str,
        action: str,
        target: str,
        outcome: str,
        ip: str,
        info: dict[str, object],
        now: datetime | None,
    ) -> AuditEntry:
        for attempt in range(_RETRIES):
            with self._engine.connect() as conn:
                head = conn.execute(select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)).first()
            seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
            ts = (now or datetime.now(UTC)).astimezone(UTC)
            digest = entry_hash(prev, seq, ts, actor, action, target, outcome, ip, info)
            row = {
                "seq": seq,
                "ts": ts,
                "actor": actor[:96],
                "action": action[:64],
                "target": target[:256],
                "outcome": outcome[:16],
                "ip": ip[:64],
                "detail": json.dumps(info, ensure_ascii=False, default=str),
                "prev_hash": prev,
                "hash": digest,
            }
            if row["actor"] != actor or row["target"] != target:
                raise ValueError("audit actor or target too long")
            try:
                with self._engine.begin() as conn:
                    conn.execute(insert(AuditRow), row)
            except IntegrityError:
                # Another process appended at the same place: back off a little, then read the new head.
                time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311 - jitter, not crypto
                continue
            return AuditEntry(seq, ts, actor, action, target, outcome, ip, info, prev, digest)
        raise RuntimeError("could not append to the audit trail under contention")

    def count(self) -> int:
        """Count entries."""
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(AuditRow)).scalar_one())

    def entries(self) -> Iterator[AuditEntry]:
        """Every entry in chain order."""
        with self._engine.connect() as conn:
            for r in conn.execute(select(_T).order_by(_T.c.seq)):
                yield _entry(r)

    def verify(self) -> ChainBreak | None:
        """Return the first break in the chain, or None when every entry is intact."""
        return first_break(self.entries())

    def search(self, query: AuditQuery) -> list[AuditEntry]:
        """Find entries, newest first."""
        stmt = select(_T).order_by(_T.c.seq.desc()).limit(query.limit)
        if query.actor:
            stmt = stmt.where(AuditRow.actor == query.actor)
        if query.action:
            stmt = stmt.where(AuditRow.action == query.action)
        if query.target:
            stmt = stmt.where(AuditRow.target.contains(query.target))
        if query.since:
            stmt = stmt.where(AuditRow.ts >= query.since)
        if query.until:
            stmt = stmt.where(AuditRow.ts < query.until)
        with self._engine.connect() as conn:
            return [_entry(r) for r in conn.execute(stmt)]


def _entry(r: Row[Any]) -> AuditEntry:
    ts = r.ts if r.ts.tzinfo else r.ts.replace(tzinfo=UTC)  # SQLite drops the offset; we store UTC
    return AuditEntry(
        r.seq, ts, r.actor, r.action, r.target, r.outcome, r.ip, json.loads(r.detail), r.prev_hash, r.hash
    )
