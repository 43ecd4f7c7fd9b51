"""A Redis lease: one process at a time does a periodic job, another takes over if it dies."""

from __future__ import annotations

import redis

__all__ = ["RENEW_LEASE", "Lease"]

# Take the lease if free, or extend it if we hold it: one atomic step, so it never extends someone else's.
RENEW_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""


class Lease:
    """Hold a named lease for ``owner``, renewed on every call to ``hold``."""

    def __init__(self, client: redis.Redis, key: str, owner: str, ttl_ms: int) -> None:
        self.key = key
        self.owner = owner
        self.ttl_ms = ttl_ms
        self._renew = client.register_script(RENEW_LEASE)

    def hold(self) -> bool:
        """Take or extend the lease; False if another owner holds it."""
        return bool(self._renew(keys=[self.key], args=[self.owner, self.ttl_ms]))
