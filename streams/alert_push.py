"""Alert changes for the screens: numbered in Redis, so a screen that misses one sees the gap.

Publishing is one Lua script: INCR the alert sequence, then PUBLISH ``{"seq": n, "alerts": [...]}``
on the push channel. Both happen in one step, so sequence order is publish order whichever
process (a worker storing an alarm, a web process storing an acknowledgement) publishes.
A screen resyncs from ``GET /api/v1/alerts``, which answers with the sequence it read before
reading the alerts: everything after it comes by push, and each alert's ``version`` says
which copy is newer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import redis

from streams.keys import RedisKeys

__all__ = ["ALERTS_EVENT", "current_alert_seq", "publish_alerts"]

ALERTS_EVENT = "alerts"

# The envelope is streams.aggregates.encode_push's, built around the number INCR returned;
# ARGV[2] holds the message's other keys, already JSON ("" or ',"renotify":true').
_PUBLISH = """
local n = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[2], '{"event":"alerts","data":{"seq":' .. n .. ',"alerts":' .. ARGV[1] .. ARGV[2] .. '}}')
return n
"""


def publish_alerts(
    client: redis.Redis, keys: RedisKeys, alerts: Sequence[Mapping[str, Any]], *, renotify: bool = False
) -> int:
    """Publish changed alerts (their wire form) with the next sequence number; return that number.

    ``renotify`` asks screens to signal again (an escalation moved the alert up the tree).
    """
    items = json.dumps(list(alerts), separators=(",", ":"), ensure_ascii=False)
    extra = ',"renotify":true' if renotify else ""
    script = client.register_script(_PUBLISH)  # EVALSHA once the server has it
    return int(script(keys=[keys.alerts_seq, keys.push_channel], args=[items, extra]))


def current_alert_seq(client: redis.Redis, keys: RedisKeys) -> int:
    """The sequence number of the last published alert change (0 before the first)."""
    raw = client.get(keys.alerts_seq)
    return int(raw) if raw is not None else 0
