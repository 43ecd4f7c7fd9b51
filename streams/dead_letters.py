"""Read, replay and purge the dead-letter stream the worker fills with refused entries.

A dead letter has the fields ``entry_id`` (the id the entry had in the ingest stream),
``reason``, ``detail`` and ``raw`` (the original bytes of its ``data`` field, empty when
there were none). Replaying re-appends ``raw`` to the ingest stream, where the worker
validates it again; event_id dedup makes a second replay of the same event harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis

from streams.ingest import DATA_FIELD
from streams.keys import RedisKeys

__all__ = ["DeadLetter", "ReplayOutcome", "count_before", "iter_letters", "letters_by_id", "purge_before", "replay"]

_PAGE = 500

# Per letter, atomically: read it, re-append its raw bytes, and only then delete it. A script
# rather than MULTI because MULTI runs the XDEL even when the XADD before it failed at run time
# (say WRONGTYPE), which would lose the letter; an error here aborts the script before the XDEL.
# Reading inside the script also means two operators replaying at once re-append a letter once.
_REPLAY = """
local maxlen = ARGV[1]
local out = {}
for i = 2, #ARGV do
  local found = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])
  if #found == 0 then
    out[#out + 1] = 'gone'
  else
    local fields, raw = found[1][2], nil
    for j = 1, #fields, 2 do
      if fields[j] == 'raw' then raw = fields[j + 1] end
    end
    if raw == nil or raw == '' then
      out[#out + 1] = 'no_raw'
    else
      out[#out + 1] = redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '*', ARGV_DATA, raw)
      redis.call('XDEL', KEYS[1], ARGV[i])
    end
  end
end
return out
""".replace("ARGV_DATA", f"'{DATA_FIELD}'")


def _ms(stream_id: str) -> int:
    return int(stream_id.split("-", 1)[0])


def _time(stream_id: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(_ms(stream_id) / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _text(value: bytes | None) -> str:
    return value.decode("utf-8", "replace") if value is not None else ""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One refused entry as the dead-letter stream holds it."""

    letter_id: str
    entry_id: str
    reason: str
    detail: str
    raw: bytes

    @classmethod
    def from_fields(cls, letter_id: bytes | str, fields: dict[bytes, bytes]) -> DeadLetter:
        """Build a letter from one XRANGE row (fields missing in a hand-made entry read as empty)."""
        lid = letter_id.decode() if isinstance(letter_id, bytes) else letter_id
        return cls(
            lid,
            _text(fields.get(b"entry_id")),
            _text(fields.get(b"reason")),
            _text(fields.get(b"detail")),
            fields.get(b"raw", b""),
        )

    @property
    def dead_at(self) -> datetime | None:
        """When the worker dead-lettered it (the time in its own stream id)."""
        return _time(self.letter_id)

    @property
    def received_at(self) -> datetime | None:
        """When the ingest stream took the entry (the time in its original id)."""
        return _time(self.entry_id) if self.entry_id else None

    @property
    def replayable(self) -> bool:
        """Whether there are bytes to replay (an entry trimmed before processing has none)."""
        return bool(self.raw)


def iter_letters(
    client: redis.Redis, stream: str, *, newest_first: bool = False, reason: str | None = None
) -> Iterator[DeadLetter]:
    """Yield the dead letters page by page, optionally of one reason only."""
    cursor: str | None = None
    while True:
        if newest_first:
            rows: Any = client.xrevrange(stream, max=f"({cursor}" if cursor else "+", min="-", count=_PAGE)
        else:
            rows = client.xrange(stream, min=f"({cursor}" if cursor else "-", max="+", count=_PAGE)
        if not rows:
            return
        for letter_id, fields in rows:
            letter = DeadLetter.from_fields(letter_id, fields)
            if reason is None or letter.reason == reason:
                yield letter
        last = rows[-1][0]
        cursor = last.decode() if isinstance(last, bytes) else str(last)
        if len(rows) < _PAGE:
            return


def letters_by_id(client: redis.Redis, stream: str, ids: Iterable[str]) -> tuple[list[DeadLetter], list[str]]:
    """Read the named letters; return those found and the ids not found."""
    wanted = list(dict.fromkeys(ids))
    pipe = client.pipeline(transaction=False)
    for letter_id in wanted:
        pipe.xrange(stream, min=letter_id, max=letter_id)
    found: list[DeadLetter] = []
    missing: list[str] = []
    for letter_id, rows in zip(wanted, pipe.execute(), strict=True):
        if rows:
            found.append(DeadLetter.from_fields(rows[0][0], rows[0][1]))
        else:
            missing.append(letter_id)
    return found, missing


@dataclass
class ReplayOutcome:
    """What a replay did, letter by letter."""

    replayed: dict[str, str] = field(default_factory=dict)  # dead-letter id -> its new ingest entry id
    no_raw: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # deleted (or replayed by someone else) meanwhile


def replay(
    client: redis.Redis, keys: RedisKeys, letter_ids: Sequence[str], *, maxlen: int, chunk: int = 100
) -> ReplayOutcome:
    """Re-append the raw bytes of these letters to the ingest stream, deleting each one re-appended."""
    script = client.register_script(_REPLAY)
    outcome = ReplayOutcome()
    for start in range(0, len(letter_ids), chunk):
        ids = list(letter_ids[start : start + chunk])
        answers: Any = script(keys=[keys.dead_letter_stream, keys.ingest_stream], args=[maxlen, *ids])
        for letter_id, answer in zip(ids, answers, strict=True):
            text = answer.decode() if isinstance(answer, bytes) else str(answer)
            if text == "gone":
                outcome.gone.append(letter_id)
            elif text == "no_raw":
                outcome.no_raw.append(letter_id)
            else:
                outcome.replayed[letter_id] = text
    return outcome


def _cutoff_id(before: datetime) -> str:
    return f"{int(before.timestamp() * 1000)}-0"


def count_before(client: redis.Redis, stream: str, before: datetime) -> int:
    """Count the letters dead-lettered before a time."""
    cutoff = _ms(_cutoff_id(before))
    n = 0
    for letter in iter_letters(client, stream):
        if _ms(letter.letter_id) >= cutoff:
            break
        n += 1
    return n


def purge_before(client: redis.Redis, stream: str, before: datetime) -> int:
    """Delete every letter dead-lettered before a time (exactly, XTRIM MINID); return how many went."""
    return int(client.xtrim(stream, minid=_cutoff_id(before), approximate=False))
