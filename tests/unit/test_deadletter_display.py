"""What `deadletter list` shows of hostile bytes: escapes, never terminal control."""

from __future__ import annotations

import pytest

from runtime.deadletter_commands import preview, printable


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain 烟感 text", "plain 烟感 text"),
        ("\x1b[2J\x1b]0;pwned\x07", "\\x1b[2J\\x1b]0;pwned\\x07"),
        ("a\nb\rc\td", "a\\nb\\rc\\td"),
        ("\u202egnp.exe\u2066", "\\u202egnp.exe\\u2066"),  # bidi overrides (Trojan Source)
        ("\u2028\u2029\x85\u200b", "\\u2028\\u2029\\x85\\u200b"),
        ("\U000e0041", "\\U000e0041"),  # a tag character
    ],
)
def test_printable_escapes_what_a_terminal_would_obey(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_preview_shows_invalid_utf8_as_escapes_and_cuts() -> None:
    assert preview(b"\xff\xfe{\x00}") == "\\xff\\xfe{\\x00}"
    cut = preview(b"x" * 500, width=20)
    assert len(cut) == 20 and cut.endswith("…")
    assert preview(b"\x1b" * 500, width=20).startswith("\\x1b")
