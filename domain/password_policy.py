"""What a password must be: long, not common, not the user's name (OWASP ASVS 6.2)."""

from __future__ import annotations

__all__ = ["MAX_LENGTH", "MIN_LENGTH", "violations"]

MIN_LENGTH = 12
MAX_LENGTH = 128

# Passwords that appear at the top of every leaked-password list, Chinese ones included.
_COMMON = frozenset(
    [
        "123456789012",
        "1234567890ab",
        "123456123456",
        "111111111111",
        "000000000000",
        "password1234",
        "passw0rd1234",
        "qwertyuiop12",
        "qwerty123456",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "abc123456789",
        "admin1234567",
        "administrator",
        "iloveyou1234",
        "woaini131452",
        "woaini520520",
        "5201314520wo",
        "a12345678910",
        "letmein12345",
        "welcome12345",
        "zxcvbnm12345",
        "asdfghjkl123",
        "password123!",
        "changeme1234",
        "gridwatch123",
        "gridwatch1234",
        "88888888888",
        "666666666666",
    ]
)


def violations(password: str, username: str = "") -> list[str]:
    """Return the catalog keys of every rule the password breaks (empty when it is fine).

    >>> violations("short"), violations("correct horse battery staple")
    (['password.too_short'], [])
    """
    found = []
    if len(password) < MIN_LENGTH:
        found.append("password.too_short")
    if len(password) > MAX_LENGTH:
        found.append("password.too_long")
    lowered = password.lower()
    if lowered in _COMMON or len(set(password)) < 4:
        found.append("password.too_common")
    if username and username.lower() in lowered:
        found.append("password.contains_username")
    return found
