"""Write the duty desk's alert tones to assets/sounds/ (one small looping WAV per severity).

The tones are generated, not recorded, so the repository holds their source; run
``python scripts/make_sounds.py`` after changing a pattern below and commit the WAVs.
Each file is one loop period: the browser repeats it while an alert of that severity waits.
"""

from __future__ import annotations

import math
import struct
import sys
import wave
from pathlib import Path

RATE = 11025  # Hz; plenty for beeps, and keeps each file near 10 kB
OUT = Path(__file__).resolve().parent.parent / "assets" / "sounds"

# severity -> (frequency Hz or 0 for silence, duration s) segments of one loop period
PATTERNS: dict[str, list[tuple[float, float]]] = {
    "critical": [(988, 0.12), (0, 0.04), (740, 0.12), (0, 0.04), (988, 0.12), (0, 0.04), (740, 0.12), (0, 0.4)],
    "high": [(880, 0.15), (0, 0.08), (880, 0.15), (0, 0.62)],
    "warning": [(660, 0.25), (0, 0.75)],
    "info": [(523, 0.12), (0, 1.38)],
}
VOLUME = 0.6
FADE_S = 0.01  # short ramps: no clicks at the edges of a beep


def samples(freq: float, seconds: float) -> list[int]:
    """Unsigned 8-bit samples of a sine beep (or silence) with faded edges."""
    n = round(seconds * RATE)
    fade = max(1, round(FADE_S * RATE))
    out = []
    for i in range(n):
        envelope = min(1.0, i / fade, (n - 1 - i) / fade) if freq else 0.0
        value = VOLUME * envelope * math.sin(2 * math.pi * freq * i / RATE)
        out.append(128 + round(127 * value))
    return out


def write(severity: str, path: Path) -> int:
    """Write one severity's loop; return its size in bytes."""
    data = [s for freq, seconds in PATTERNS[severity] for s in samples(freq, seconds)]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(RATE)
        w.writeframes(struct.pack(f"{len(data)}B", *data))
    return path.stat().st_size


def main() -> int:
    """Write every tone."""
    OUT.mkdir(parents=True, exist_ok=True)
    for severity in PATTERNS:
        path = OUT / f"{severity}.wav"
        print(f"{path.relative_to(OUT.parent.parent)}: {write(severity, path)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
