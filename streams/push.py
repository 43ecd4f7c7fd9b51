"""Bridge from the Redis push channel to this web process's Socket.IO clients.

Every web process runs its own bridge and emits only to its own clients, so several
processes never deliver a message twice. Pushes are at-most-once (pub/sub): a screen
that misses one sees a gap in the sequence numbers and resyncs from the snapshot.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

import redis

from streams.aggregates import decode_push
from streams.keys import RedisKeys

__all__ = ["PushBridge"]

log = logging.getLogger(__name__)

Emit = Callable[[str, object], None]


class PushBridge:
    """Subscribe to the push channel and hand each message to ``emit(event, data)``."""

    def __init__(self, client: redis.Redis, keys: RedisKeys, emit: Emit) -> None:
        self._r = client
        self._keys = keys
        self._emit = emit
        self._stop = threading.Event()
        self.connected = threading.Event()
        self.delivered = 0

    def run(self) -> None:
        """Relay messages until stop(); resubscribe after any Redis outage."""
        backoff = 0.1
        while not self._stop.is_set():
            pubsub = self._r.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
            try:
                pubsub.subscribe(self._keys.push_channel)
                self.connected.set()
                backoff = 0.1
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is None:
                        continue
                    try:
                        event, data = decode_push(message["data"])
                    except (ValueError, KeyError, TypeError):
                        log.warning("dropping malformed push message")
                        continue
                    self._emit(event, data)
                    self.delivered += 1
            except Exception as exc:  # noqa: BLE001 - the screens' only feed must never die
                if not self._stop.is_set():
                    log.warning("push bridge lost redis (%s); retrying in %.1f s", exc, backoff)
            finally:
                self.connected.clear()
                with contextlib.suppress(Exception):  # closing a broken connection may fail too
                    pubsub.close()
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 5.0)

    def stop(self) -> None:
        """Ask the loop to end."""
        self._stop.set()
