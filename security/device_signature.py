"""The device signature scheme: one secret per device, an HMAC-SHA256 over time, nonce and body.

A device signs ``f"{timestamp}\\n{nonce}\\n"`` followed by the raw request body with its own
secret; the server recomputes the HMAC and compares in constant time. The timestamp bounds
how long a captured request is useful and the nonce makes it single-use within that time.

Examples
--------
>>> sign("00" * 32, 1700000000, "abcdefghijklmnop", b'{"events": []}')[:16]
'ad04048c67cb45a7'
>>> verify("00" * 32, 1700000000, "abcdefghijklmnop", b'{"events": []}',
...        sign("00" * 32, 1700000000, "abcdefghijklmnop", b'{"events": []}'))
True
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

__all__ = ["DEVICE_ID_PATTERN", "NONCE_PATTERN", "new_secret", "sign", "signing_input", "verify"]

DEVICE_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")  # the same rule as an event's device_id
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
SECRET_BYTES = 32


def new_secret() -> str:
    """Draw a fresh device secret (256 random bits, hex) so no two devices share a key."""
    return secrets.token_hex(SECRET_BYTES)


def signing_input(timestamp: int, nonce: str, body: bytes) -> bytes:
    """Build the exact bytes a device signs, so client and server cannot disagree on framing."""
    return f"{timestamp}\n{nonce}\n".encode("ascii") + body


def sign(secret: str, timestamp: int, nonce: str, body: bytes) -> str:
    """Return the hex HMAC-SHA256 a device sends in X-Signature."""
    return hmac.new(secret.encode("utf-8"), signing_input(timestamp, nonce, body), hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: int, nonce: str, body: bytes, signature: str) -> bool:
    """Check a signature in constant time, so timing reveals nothing about the expected one."""
    expected = sign(secret, timestamp, nonce, body).encode("ascii")
    return hmac.compare_digest(expected, signature.lower().encode("utf-8", "replace"))
