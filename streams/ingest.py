"""Append raw events to the ingest stream: the documented format trusted gateways use.

Each stream entry has one field, ``data``, holding the JSON envelope of one event.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis

__all__ = ["DATA_FIELD", "append_events"]

DATA_FIELD = "data"


def append_events(
    client: redis.Redis, stream: str, raws: Iterable[str | bytes], *, maxlen: int = 1_000_000
) -> list[bytes]:
    """XADD every raw event in one pipelined round trip; return the entry ids."""
    pipe = client.pipeline(transaction=False)
    n = 0
    for raw in raws:
        pipe.xadd(stream, {DATA_FIELD: raw}, maxlen=maxlen, approximate=True)
        n += 1
    if n == 0:
        return []
    return list(pipe.execute())
