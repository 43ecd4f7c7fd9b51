"""`python app.py deadletter …`: list, replay and purge the entries the worker refused.

Everything shown is escaped first: a dead letter's bytes come from whoever wrote to the
ingest stream, and must never reach the operator's terminal as control sequences.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import redis

from domain.events import RejectReason
from settings import Settings
from streams.connection import connect
from streams.dead_letters import (
    DeadLetter,
    count_before,
    iter_letters,
    letters_by_id,
    purge_before,
    replay,
)
from streams.keys import RedisKeys

__all__ = ["add_parser", "printable", "run"]

_REASONS = [r.value for r in RejectReason]
_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}
_STREAM_ID = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # controls, bidi overrides, unassigned, line breaks


def printable(text: str, width: int | None = None) -> str:
    r"""Escape every control, format and line-break character, then cut to width.

    >>> printable("ok\x1b[2J\u202egnp.exe\n")
    'ok\\x1b[2J\\u202egnp.exe\\n'
    >>> printable("烟感" * 10, 5)
    '烟感烟感…'
    """
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif unicodedata.category(ch) in _HIDDEN:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    shown = "".join(out)
    if width is not None and len(shown) > width:
        shown = shown[: width - 1] + "…"
    return shown


def preview(raw: bytes, width: int = 60) -> str:
    r"""Show raw bytes as text: invalid UTF-8 as \xNN, everything unprintable escaped.

    >>> preview(b'{"a": "\xff\x07"}')
    '{"a": "\\xff\\x07"}'
    """
    return printable(raw[: width * 4].decode("utf-8", "backslashreplace"), width)


def _duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30m, 12h or 7d")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def _stream_id(text: str) -> str:
    if not _STREAM_ID.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a stream id like 1700000000000-0")
    return text


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare the `deadletter` command and its subcommands."""
    dl = sub.add_parser("deadletter", help="list, replay and purge refused events (the dead-letter stream)")
    ds = dl.add_subparsers(dest="deadletter_command", metavar="ACTION", required=True)
    ls = ds.add_parser("list", help="show dead letters, newest first, with their reason and a safe preview")
    ls.add_argument("--reason", choices=_REASONS, help="only this reason")
    ls.add_argument("--limit", type=int, default=50, help="show at most this many (default 50; 0 = all)")
    ls.add_argument("--json", action="store_true", help="one JSON object per line, raw bytes in base64")
    rp = ds.add_parser("replay", help="re-append dead letters to the ingest stream; the worker validates again")
    rp.add_argument("--reason", choices=_REASONS, help="every letter of this reason")
    rp.add_argument("--id", dest="ids", nargs="+", type=_stream_id, default=[], metavar="ID", help="these letters")
    rp.add_argument("--all", action="store_true", help="every letter")
    rp.add_argument("--dry-run", action="store_true", help="say what would be replayed, change nothing")
    pg = ds.add_parser("purge", help="delete dead letters older than a given age")
    pg.add_argument("--older-than", type=_duration, required=True, metavar="AGE", help="e.g. 30m, 12h, 7d")
    pg.add_argument("--dry-run", action="store_true", help="count them, delete nothing")


def run(args: argparse.Namespace, settings: Settings, redis_url: Callable[[Settings], str]) -> int:
    """Run a `deadletter` command; return the exit status."""
    if args.deadletter_command == "replay" and not (args.ids or args.reason or args.all):
        print("error: say which letters to replay: --id ID ..., --reason R or --all", file=sys.stderr)
        return 2
    client = connect(redis_url(settings))
    keys = RedisKeys(settings.ingest_stream, settings.dead_letter_stream)
    try:
        if args.deadletter_command == "list":
            return _list(client, keys, args.reason, args.limit, as_json=args.json)
        if args.deadletter_command == "replay":
            return _replay(client, keys, args, settings.stream_maxlen)
        return _purge(client, keys, args.older_than, dry_run=args.dry_run)
    finally:
        client.close()


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _as_json(letter: DeadLetter) -> str:
    return json.dumps(
        {
            "id": letter.letter_id,
            "dead_at": letter.dead_at.isoformat() if letter.dead_at else None,
            "entry_id": letter.entry_id,
            "received_at": letter.received_at.isoformat() if letter.received_at else None,
            "reason": letter.reason,
            "detail": letter.detail,
            "raw_size": len(letter.raw),
            "raw_base64": base64.b64encode(letter.raw).decode("ascii"),
            "raw_preview": preview(letter.raw),
        }
    )  # ensure_ascii: every non-ASCII and control character leaves as an escape


def _list(client: redis.Redis, keys: RedisKeys, reason: str | None, limit: int, *, as_json: bool) -> int:
    shown = 0
    reasons: Counter[str] = Counter()
    if not as_json:
        print(f"{'dead-letter id':<20} {'dead at (UTC)':<19}  {'reason':<16} {'entry id':<20} {'detail':<48}  raw")
    for letter in iter_letters(client, keys.dead_letter_stream, newest_first=True, reason=reason):
        if limit and shown >= limit:
            break
        shown += 1
        reasons[letter.reason] += 1
        if as_json:
            print(_as_json(letter))
            continue
        raw = f"({len(letter.raw)} B) {preview(letter.raw)}" if letter.raw else "(none: trimmed or no data field)"
        print(
            f"{printable(letter.letter_id, 20):<20} {_when(letter.dead_at):<19}  {printable(letter.reason, 16):<16} "
            f"{printable(letter.entry_id, 20):<20} {printable(letter.detail, 48):<48}  {raw}"
        )
    if not as_json:
        by_reason = ", ".join(f"{printable(r)} {n}" for r, n in sorted(reasons.items())) or "none"
        total = client.xlen(keys.dead_letter_stream)
        print(f"{shown} shown ({by_reason}); {total} in {keys.dead_letter_stream}", file=sys.stderr)
    return 0


def _replay(client: redis.Redis, keys: RedisKeys, args: argparse.Namespace, maxlen: int) -> int:
    missing: list[str] = []
    if args.ids:
        letters, missing = letters_by_id(client, keys.dead_letter_stream, args.ids)
        if args.reason:
            letters = [letter for letter in letters if letter.reason == args.reason]
    else:
        letters = list(iter_letters(client, keys.dead_letter_stream, reason=args.reason))
    for letter_id in missing:
        print(f"not found: {letter_id}", file=sys.stderr)
    if args.dry_run:
        for letter in letters:
            what = f"would replay ({len(letter.raw)} B)" if letter.replayable else "would skip: no raw bytes"
            print(f"{letter.letter_id} {printable(letter.reason, 16)}: {what}")
        ready = sum(1 for letter in letters if letter.replayable)
        print(f"dry run: {ready} would be replayed, {len(letters) - ready} have no raw bytes, {len(missing)} not found")
        return 1 if missing else 0
    outcome = replay(client, keys, [letter.letter_id for letter in letters], maxlen=maxlen)
    for letter_id in outcome.no_raw:
        print(f"not replayed {letter_id}: no raw bytes (trimmed before it was processed); kept", file=sys.stderr)
    for letter_id in outcome.gone:
        print(f"not replayed {letter_id}: deleted or replayed by someone else meanwhile", file=sys.stderr)
    print(
        f"replayed {len(outcome.replayed)} dead letter(s) to {keys.ingest_stream}; "
        f"{len(outcome.no_raw)} without raw bytes kept, {len(outcome.gone)} gone meanwhile, {len(missing)} not found"
    )
    return 1 if missing else 0


def _purge(client: redis.Redis, keys: RedisKeys, age: timedelta, *, dry_run: bool) -> int:
    before = datetime.now(UTC) - age
    if dry_run:
        n = count_before(client, keys.dead_letter_stream, before)
        print(f"dry run: {n} dead letter(s) from before {_when(before)} UTC would be purged")
        return 0
    n = purge_before(client, keys.dead_letter_stream, before)
    print(f"purged {n} dead letter(s) from before {_when(before)} UTC; {client.xlen(keys.dead_letter_stream)} left")
    return 0
