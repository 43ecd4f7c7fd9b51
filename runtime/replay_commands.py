"""`python app.py replay FILE.csv --device ID --speed X`: a recorded sensor series as a live device feed.

The device must be registered and active: its events carry its registered type and place.
Events go to the ingest stream as a trusted gateway writes them, or, with ``--url``, to
``POST /api/v1/events`` in batches signed with the device's own secret. Which column becomes
which event is described in domain.sensor_replay.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from api.openapi import EVENTS_PATH, MAX_EVENTS
from domain.events import Event, EventType
from domain.sensor_replay import BadRow, FeedConverter, FeedRow, UnsupportedDevice
from runtime.bootstrap import open_database
from security.device_signature import sign
from settings import Settings
from storage.device_repository import ACTIVE, DeviceRepository
from streams.connection import connect
from streams.ingest import append_events

__all__ = ["FeedPlayer", "HttpSender", "ReplayError", "ReplayTotals", "add_parser", "run"]

_SECRET = re.compile(r"^[0-9a-fA-F]{64}$")


class ReplayError(RuntimeError):
    """The replay cannot go on; the message says why."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare the `replay` command."""
    rp = sub.add_parser("replay", help="replay a recorded sensor CSV as a registered device's live feed")
    rp.add_argument("file", type=Path, help="CSV with a UTC column (epoch seconds), e.g. the smoke-detection series")
    rp.add_argument("--device", required=True, help="a registered, active smoke, temperature or gas device")
    rp.add_argument(
        "--speed", type=float, default=1.0, help="1 = as recorded, 60 = a minute a second, 0 = as fast as possible"
    )
    rp.add_argument("--limit", type=int, default=None, help="replay at most this many rows")
    rp.add_argument("--skip", type=int, default=0, help="start at this data row (0 = the first)")
    rp.add_argument("--url", help="post signed batches to this Gridwatch (e.g. http://127.0.0.1:8050)")
    rp.add_argument("--secret-file", type=Path, help="file holding the device's secret (with --url)")


@dataclass
class ReplayTotals:
    """What a replay sent, and what the server said when it went over HTTP."""

    rows: int = 0
    bad_rows: int = 0
    events: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace, settings: Settings, redis_url: Callable[[Settings], str]) -> int:
    """Run the `replay` command; return the exit status."""
    if args.speed < 0 or (args.limit is not None and args.limit < 0) or args.skip < 0:
        return _error("--speed, --limit and --skip must not be negative")
    if bool(args.url) != bool(args.secret_file):
        return _error("--url and --secret-file go together: the device signs what it posts")
    engine = open_database(settings)
    try:
        record = DeviceRepository(engine).get(args.device)
    finally:
        engine.dispose()
    if record is None:
        return _error(f"no device {args.device!r} is registered; `app.py devices register` it first")
    if record.status != ACTIVE:
        return _error(f"device {args.device!r} is {record.status}: it cannot send events")
    try:
        converter = FeedConverter(record.device)
        _check_header(args.file, converter)
        sender = _http_sender(args, record.device.device_id) if args.url else None
    except (UnsupportedDevice, ReplayError, OSError, UnicodeDecodeError, csv.Error) as exc:
        return _error(str(exc))
    totals = ReplayTotals()
    if sender is None:
        client = connect(redis_url(settings))

        def send(events: Sequence[Event]) -> None:
            append_events(client, settings.ingest_stream, [e.to_json() for e in events], maxlen=settings.stream_maxlen)

        target = settings.ingest_stream
    else:
        client = None
        send = sender.send
        target = sender.url
    player = FeedPlayer(converter, send, totals, speed=args.speed)
    previous = {sig: signal.signal(sig, lambda _s, _f: player.stop()) for sig in (signal.SIGINT, signal.SIGTERM)}
    d = record.device
    print(f"replaying {args.file.name} as {d.device_id} ({d.device_type.value}, grid {d.grid_code}) to {target}")
    started = time.monotonic()
    try:
        player.run(_rows(args.file, converter, args.skip, args.limit, totals))
    except (ReplayError, OSError, csv.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if client is not None:
            client.close()
    elapsed = time.monotonic() - started
    if sender is not None:
        totals.rejected.update(sender.rejected)
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(totals.events.items())) or "no events"
    print(
        f"replayed {totals.rows} rows ({kinds}) in {elapsed:.1f} s at speed {args.speed:g}"
        f"{'; stopped early' if player.stopped else ''}; {totals.bad_rows} bad rows skipped"
    )
    if sender is not None:
        refused = ", ".join(f"{reason} {n}" for reason, n in sorted(totals.rejected.items())) or "none"
        print(f"the server accepted {sender.accepted} and rejected {sum(totals.rejected.values())} ({refused})")
    return 1 if totals.rejected else 0


def _check_header(path: Path, converter: FeedConverter) -> None:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        names = csv.DictReader(fh).fieldnames or []
    missing = [c for c in converter.mapping.columns if c not in names]
    if missing:
        raise ReplayError(f"{path}: missing column(s) {', '.join(missing)} for a {converter.device.device_type} device")


def _rows(
    path: Path, converter: FeedConverter, skip: int, limit: int | None, totals: ReplayTotals
) -> Iterator[FeedRow]:
    """Yield the usable rows to replay; skipped rows pass their alarm state on, bad rows are reported."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        for index, values in enumerate(reader):
            if limit is not None and index >= skip + limit:
                return
            try:
                row = converter.read(index, values)
            except BadRow as exc:
                if index >= skip:
                    totals.bad_rows += 1
                    print(f"skipped row {index} (line {reader.line_num}): {exc}", file=sys.stderr)
                continue
            if index < skip:
                converter.skip(row)
                continue
            yield row


class FeedPlayer:
    """Send each row's events when it is due, scheduled on a monotonic clock so the pacing never drifts.

    Row n is due at start + (recorded time of n - recorded time of the first row) / speed, and
    its events are stamped with that time; at speed 0 rows go as fast as the target takes them,
    stamped with the time they go. Rows due together go in one batch.
    """

    def __init__(
        self,
        converter: FeedConverter,
        send: Callable[[Sequence[Event]], None],
        totals: ReplayTotals,
        *,
        speed: float,
        batch: int = 500,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._converter = converter
        self._send = send
        self.totals = totals
        self.speed = speed
        self.batch = batch
        self._monotonic = monotonic
        self._wall = wall
        self._stop = threading.Event()

    def run(self, rows: Iterator[FeedRow]) -> ReplayTotals:
        """Replay the rows until they run out or stop() is called."""
        start, wall_start = self._monotonic(), self._wall()
        pending: list[Event] = []
        for row in rows:
            offset = self._converter.offset_s(row, self.speed)
            wait = start + offset - self._monotonic()
            if wait > 0:
                self._flush(pending)  # what is due goes out before we sleep
                if self._stop.wait(wait):
                    break
            if self._stop.is_set():
                break
            ts = wall_start + offset if self.speed > 0 else self._wall()
            pending.extend(self._converter.events(row, datetime.fromtimestamp(ts, UTC)))
            self.totals.rows += 1
            if len(pending) >= self.batch:
                self._flush(pending)
        self._flush(pending)
        return self.totals

    def _flush(self, pending: list[Event]) -> None:
        if pending:
            self._send(pending)
            self.totals.events.update(EventType(e.payload.kind).value for e in pending)
            pending.clear()

    def stop(self) -> None:
        """Ask the replay to end; what was sent stays sent."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        """Whether stop() was called."""
        return self._stop.is_set()


def _http_sender(args: argparse.Namespace, device_id: str) -> HttpSender:
    text = args.secret_file.read_text(encoding="utf-8").strip()
    if not _SECRET.match(text):
        raise ReplayError(f"{args.secret_file} must hold the device's secret: 64 hex characters")
    url = args.url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ReplayError(f"--url must be an http:// or https:// address, not {args.url!r}")
    return HttpSender(url if url.endswith(EVENTS_PATH) else url + EVENTS_PATH, device_id, text)


class HttpSender:
    """Post events as the device itself: batches of at most MAX_EVENTS, each signed with its secret."""

    def __init__(self, url: str, device_id: str, secret: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self._device_id = device_id
        self._secret = secret
        self._timeout = timeout
        self.accepted = 0
        self.rejected: Counter[str] = Counter()

    def send(self, events: Sequence[Event]) -> None:
        """Post the events; raise ReplayError if a whole request is refused."""
        for start in range(0, len(events), MAX_EVENTS):
            chunk = events[start : start + MAX_EVENTS]
            self._post(b'{"events":[' + b",".join(e.to_json().encode("utf-8") for e in chunk) + b"]}")

    def _post(self, body: bytes) -> None:
        ts, nonce = int(time.time()), secrets.token_urlsafe(18)
        request = urllib.request.Request(  # noqa: S310 - the operator's own URL, http(s) only (checked by urllib)
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Device-Id": self._device_id,
                "X-Timestamp": str(ts),
                "X-Nonce": nonce,
                "X-Signature": sign(self._secret, ts, nonce, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as resp:  # noqa: S310 - see above
                answer = json.load(resp)
        except urllib.error.HTTPError as exc:
            try:
                refusal = json.loads(exc.read())
                why = f"{refusal.get('error')}: {refusal.get('detail')}"
            except ValueError:
                why = exc.reason
            raise ReplayError(f"{self.url} refused the batch with HTTP {exc.code} ({why})") from None
        for result in answer.get("results", []):
            if result.get("status") == "accepted":
                self.accepted += 1
            else:
                self.rejected[str(result.get("reason"))] += 1
