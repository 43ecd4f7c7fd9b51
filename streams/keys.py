"""Every Redis key, stream and channel Gridwatch uses, declared once."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RedisKeys"]


@dataclass(frozen=True, slots=True)
class RedisKeys:
    """Names of Redis objects, derived from the two configurable stream names."""

    ingest_stream: str = "gw:ingest"
    dead_letter_stream: str = "gw:dead"
    prefix: str = "gw"

    @property
    def worker_group(self) -> str:
        """Consumer group all ingest workers share."""
        return "gw-workers"

    def bucket(self, minute: int) -> str:
        """Hash grid -> events counted in one processing minute."""
        return f"{self.prefix}:bucket:{minute}"

    @property
    def seen_prefix(self) -> str:
        """Prefix of per-event idempotency keys (event_id)."""
        return f"{self.prefix}:seen:"

    @property
    def applied_total(self) -> str:
        """Counter of events whose effects were applied (not duplicates)."""
        return f"{self.prefix}:applied"

    @property
    def devices_seen(self) -> str:
        """Sorted set device_id -> last time (ms) an event of it was processed."""
        return f"{self.prefix}:devices:seen"

    @property
    def map_levels(self) -> str:
        """Hash unit code -> current colour level, the snapshot screens resync from."""
        return f"{self.prefix}:map:levels"

    @property
    def map_seq(self) -> str:
        """Sequence number of the last published map delta."""
        return f"{self.prefix}:map:seq"

    @property
    def kpis(self) -> str:
        """JSON of the latest KPI snapshot."""
        return f"{self.prefix}:kpis"

    @property
    def aggregator_lease(self) -> str:
        """Lease held by the one worker that publishes map deltas."""
        return f"{self.prefix}:aggregator:lease"

    @property
    def alerts_seq(self) -> str:
        """Sequence number of the last published alert change (screens detect a missed push by a gap)."""
        return f"{self.prefix}:alerts:seq"

    @property
    def push_channel(self) -> str:
        """Pub/sub channel of UI messages (map deltas, KPIs) for the web processes."""
        return f"{self.prefix}:push"
