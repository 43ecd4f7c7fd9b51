"""The device_offline rules: a device silent for longer than N minutes raises one alert, seen again clears it.

The workers keep ``gw:devices:seen`` (device -> last time an event of it was processed, ms).
One worker at a time (a Redis lease) checks it every interval. Cheap at tens of thousands
of devices: each tick reads only the devices whose last-seen time crossed the threshold
since the previous tick (one ZRANGEBYSCORE over that window; the whole past only on the
first tick after taking the lease), and looks up only the devices that have an open
offline alert (ZMSCORE) to clear the ones seen again. Occurrence ids are made of the
device and its last-seen time, so a repeated check, or two workers that both checked
around a lease hand-over, count once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from domain.alerts import Rule, RuleKind
from geo.hierarchy import Hierarchy
from runtime.alert_sink import AlertAnnouncer
from runtime.leased_loop import LeasedLoop, utc_now
from storage.alert_repository import AlertRepository, Occurrence
from streams.keys import RedisKeys

__all__ = ["OfflineWatch"]

_ZMSCORE_CHUNK = 1000
_REGISTRY_REFRESH_S = 60.0


def _ms_time(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class OfflineWatch(LeasedLoop[list[int]]):
    """Fire and clear the device_offline rules from the workers' last-seen times."""

    name = "offline watch"

    def __init__(
        self,
        client: redis.Redis,
        keys: RedisKeys,
        alerts: AlertRepository,
        rules: Sequence[Rule],
        devices: Callable[[], Mapping[str, str]],
        *,
        owner: str,
        hierarchy: Hierarchy | None = None,
        interval_s: float = 15.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(client, keys.offline_lease, owner=owner, interval_s=interval_s, clock=clock)
        self._r = client
        self._keys = keys
        self._alerts = alerts
        self._rules = [r for r in rules if r.kind is RuleKind.DEVICE_OFFLINE]
        self._load_devices = devices
        self._grids: Mapping[str, str] = {}
        self._loaded_at = float("-inf")
        self._cutoffs: dict[str, int] = {}  # rule key -> the cutoff (ms) the last tick checked up to
        self._announcer = AlertAnnouncer(alerts, hierarchy, client, keys)

    def forget(self) -> None:
        """Check the whole past again next time: another worker may have held the lease meanwhile."""
        self._cutoffs.clear()

    def work(self, now: datetime) -> list[int]:
        """Fire for devices that crossed a rule's silence limit, clear for those seen again; return changed ids."""
        if not self._rules:
            return []
        if time.monotonic() - self._loaded_at > _REGISTRY_REFRESH_S:
            self._grids = self._load_devices()  # registrations and revocations since the last load
            self._loaded_at = time.monotonic()
        occurrences: list[Occurrence] = []
        cutoffs = {}
        for rule in self._rules:
            cutoff = int((now - timedelta(minutes=rule.minutes)).timestamp() * 1000)
            cutoffs[rule.key] = cutoff
            occurrences += self._seen_again(rule, cutoff)
            occurrences += self._gone_silent(rule, self._cutoffs.get(rule.key), cutoff)
        changed = self._alerts.record(occurrences) if occurrences else []
        self._cutoffs.update(cutoffs)  # only once stored: a failed tick checks the same window again
        self._announcer.announce(changed)
        return changed

    def _gone_silent(self, rule: Rule, since: int | None, cutoff: int) -> list[Occurrence]:
        low: Any = "-inf" if since is None else f"({since}"
        silent: list[tuple[bytes, float]] = self._r.zrangebyscore(  # type: ignore[assignment]
            self._keys.devices_seen, low, cutoff, withscores=True
        )
        out = []
        for raw, score in silent:
            device = raw.decode() if isinstance(raw, bytes) else str(raw)
            grid = self._grids.get(device)
            if grid is None:
                continue  # revoked or unknown: nobody to send
            out.append(
                Occurrence(
                    event_id=f"{rule.key}:{device}:{int(score)}",
                    rule_key=rule.key,
                    dedup_key=f"{rule.key}:{device}",
                    severity=rule.severity,
                    unit_code=grid,
                    text=rule.text_zh,
                    clears=False,
                    ts=_ms_time(score) + timedelta(minutes=rule.minutes),  # when it became "too long"
                )
            )
        return out

    def _seen_again(self, rule: Rule, cutoff: int) -> list[Occurrence]:
        prefix = f"{rule.key}:"
        devices = [key[len(prefix) :] for key in self._alerts.open_dedup_keys(prefix)]
        out = []
        for start in range(0, len(devices), _ZMSCORE_CHUNK):
            chunk = devices[start : start + _ZMSCORE_CHUNK]
            scores: Any = self._r.zmscore(self._keys.devices_seen, chunk)
            for device, score in zip(chunk, scores, strict=True):
                if score is None or score <= cutoff:
                    continue  # still silent (or gone from the set after a day: still not seen)
                out.append(
                    Occurrence(
                        event_id=f"{rule.key}:{device}:{int(score)}:seen",
                        rule_key=rule.key,
                        dedup_key=f"{prefix}{device}",
                        severity=rule.severity,
                        unit_code=self._grids.get(device, ""),
                        text=rule.text_zh,
                        clears=True,
                        ts=_ms_time(score),
                    )
                )
        return out
