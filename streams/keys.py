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

    def counts(self, minute: int) -> str:
        """Hash "<grid>|<counter>" -> events counted in one processing minute (domain.metrics names)."""
        return f"{self.prefix}:counts:{minute}"

    def hour_flows(self, hour: int) -> str:
        """Hash "<unit>|<gate counter>" -> people through the gates of the units above grids in one UTC hour."""
        return f"{self.prefix}:flows:{hour}"

    def day_counts(self, day: str) -> str:
        """Hash "<grid>|<counter>" -> events of one local day (YYYYMMDD), folded from closed minutes."""
        return f"{self.prefix}:day:{day}"

    @property
    def folded_through(self) -> str:
        """Last minute whose counts were folded into its day (exactly once, across lease holders)."""
        return f"{self.prefix}:day:folded"

    @property
    def unit_stats(self) -> str:
        """Hash unit code -> JSON of its aggregates (windows, flows, health codes, devices online)."""
        return f"{self.prefix}:units:stats"

    @property
    def unit_stats_seq(self) -> str:
        """Sequence number of the last published change of unit aggregates."""
        return f"{self.prefix}:units:seq"

    @property
    def stats_lease(self) -> str:
        """Lease held by the one worker that computes unit aggregates."""
        return f"{self.prefix}:units:lease"

    def seen(self, window: int) -> str:
        """Hash of the event_ids (16 raw bytes each) applied in one dedup window of processing time."""
        return f"{self.prefix}:seen:{window}"

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
    def escalator_lease(self) -> str:
        """Lease held by the one worker that escalates overdue alerts."""
        return f"{self.prefix}:escalator:lease"

    @property
    def cases_lease(self) -> str:
        """Lease of the case supervisor (raises overdue cases as alerts)."""
        return f"{self.prefix}:cases:lease"

    @property
    def offline_lease(self) -> str:
        """Lease held by the one worker that checks devices against the device_offline rules."""
        return f"{self.prefix}:offline:lease"

    @property
    def alerts_seq(self) -> str:
        """Sequence number of the last published alert change (screens detect a missed push by a gap)."""
        return f"{self.prefix}:alerts:seq"

    @property
    def push_channel(self) -> str:
        """Pub/sub channel of UI messages (map deltas, KPIs) for the web processes."""
        return f"{self.prefix}:push"
