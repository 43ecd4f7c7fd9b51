"""The audit trail's hash chain: each entry carries the hash of the one before.

Editing or deleting any entry changes a hash that a later entry depends on, so
``first_break`` finds the first entry that no longer fits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

__all__ = ["GENESIS", "AuditEntry", "ChainBreak", "entry_hash", "first_break"]

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded action: who did what to what, when (UTC), from where, and with what result."""

    seq: int
    ts: datetime
    actor: str
    action: str
    target: str
    outcome: str
    ip: str
    detail: Mapping[str, object]
    prev_hash: str
    hash: str


def entry_hash(
    prev_hash: str,
    seq: int,
    ts: datetime,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    ip: str,
    detail: Mapping[str, object],
) -> str:
    """Hash an entry's content together with its predecessor's hash (SHA-256, canonical JSON)."""
    body = json.dumps(
        [prev_hash, seq, ts.isoformat(), actor, action, target, outcome, ip, detail],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """Where and why the chain stops verifying."""

    seq: int
    reason: str


def first_break(entries: Iterable[AuditEntry]) -> ChainBreak | None:
    """Walk entries in sequence order; return the first that was edited, removed or reordered."""
    prev = GENESIS
    expected_seq = 1
    for e in entries:
        if e.seq != expected_seq:
            return ChainBreak(expected_seq, f"entry {expected_seq} is missing (next present is {e.seq})")
        if e.prev_hash != prev:
            return ChainBreak(e.seq, "previous-hash link does not match: an earlier entry was changed or removed")
        recomputed = entry_hash(prev, e.seq, e.ts, e.actor, e.action, e.target, e.outcome, e.ip, e.detail)
        if recomputed != e.hash:
            return ChainBreak(e.seq, "content does not match its hash: this entry was edited")
        prev = e.hash
        expected_seq += 1
    return None
