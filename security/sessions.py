"""Server-side sessions: the cookie carries only a random token that Redis maps to a user.

Logging out, disabling a user or changing their role deletes the tokens, so a copied
cookie stops working at once (OWASP ASVS 7.4.1, 7.4.2).
"""

from __future__ import annotations

import json
import secrets

import redis

__all__ = ["SessionStore"]


class SessionStore:
    """Issue, resolve and revoke session tokens."""

    def __init__(
        self, client: redis.Redis, prefix: str = "gw", ttl_s: int = 12 * 3600, notify_channel: str | None = None
    ) -> None:
        self._r = client
        self._prefix = prefix
        self.ttl_s = ttl_s
        # Revocations are announced here so that every web process (and its sockets) hears of them,
        # whoever revoked: a page, the CLI, another process.
        self._notify_channel = notify_channel

    def _announce(self, data: dict[str, object]) -> None:
        if self._notify_channel:
            self._r.publish(self._notify_channel, json.dumps({"event": "revoke", "data": data}))

    def _key(self, token: str) -> str:
        return f"{self._prefix}:session:{token}"

    def _user_key(self, user_id: int) -> str:
        return f"{self._prefix}:user-sessions:{user_id}"

    def issue(self, user_id: int) -> str:
        """Start a session; return its token."""
        token = secrets.token_urlsafe(32)
        pipe = self._r.pipeline(transaction=True)
        pipe.set(self._key(token), user_id, ex=self.ttl_s)
        pipe.sadd(self._user_key(user_id), token)
        pipe.expire(self._user_key(user_id), self.ttl_s)
        pipe.execute()
        return token

    def user_of(self, token: str) -> int | None:
        """The user a live token belongs to, or None."""
        if not token or len(token) > 128:
            return None
        raw = self._r.get(self._key(token))
        return int(raw) if raw is not None else None

    def revoke(self, token: str) -> int | None:
        """End one session; return its user."""
        user_id = self.user_of(token)
        pipe = self._r.pipeline(transaction=True)
        pipe.delete(self._key(token))
        if user_id is not None:
            pipe.srem(self._user_key(user_id), token)
        pipe.execute()
        self._announce({"token": token})
        return user_id

    def revoke_all(self, user_id: int) -> int:
        """End every session of a user; return how many there were."""
        tokens = [t.decode() if isinstance(t, bytes) else str(t) for t in self._r.smembers(self._user_key(user_id))]
        pipe = self._r.pipeline(transaction=True)
        for t in tokens:
            pipe.delete(self._key(t))
        pipe.delete(self._user_key(user_id))
        pipe.execute()
        self._announce({"user_id": user_id})
        return len(tokens)
