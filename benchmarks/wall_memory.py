"""The JS heap of a /wall page over a long run while live level deltas flow (30 minutes by default).

The same set-up as ``benchmarks.map_render`` (real ``serve`` and ``worker`` on the full demo
city, a city operator signed in, headless Chromium): a /wall page at city view stays open while
100-grid deltas (and a few streets) are published through the real push path every
``INTERVAL`` seconds. The used JS heap after a forced garbage collection is printed at the start
and at the end, with samples (no GC) in between. DURATION (s, default 1800; CI-sized: 60).

Run: ``python -m benchmarks.wall_memory`` (``make bench-memory``). Printed, not asserted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from benchmarks.map_render import bench_app, memory_figure, memory_run, open_browser, print_table, sign_in

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the heap benchmark and print its figure."""
    del argv
    duration = float(os.environ.get("DURATION") or 1800)
    interval = float(os.environ.get("INTERVAL") or 0.5)
    with bench_app(int(os.environ.get("SEED") or 7)) as app:
        browser = open_browser(app.tmp / "profile")
        try:
            sign_in(browser, app)
            start, end, samples = memory_run(browser, app, duration, interval)
        finally:
            browser.quit()
    print(f"heap samples during the run (MB, no GC): {', '.join(f'{s:.1f}' for s in samples)}", flush=True)
    figure = memory_figure(start, end, duration)
    print_table([figure])
    one, five, _ = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average at the end {one:.2f} (1 min) / {five:.2f} (5 min)")
    print(
        f"wall_memory: JS heap after GC {start:.1f} → {end:.1f} MB ({(end - start) / start:+.1%}) over "
        f"{duration:.0f} s of live deltas every {interval} s; {'PASS' if figure.ok else 'MISS'} (flat ≤ +10%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
