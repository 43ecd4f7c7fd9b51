"""The map benchmark runs end to end in a tiny mode and prints every figure (timings are not asserted)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.processes import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.benchmark]  # own app, own SQLite: not in the PostgreSQL pass

FIGURE_LINES = (
    "first render /wall, cold cache",
    "first render /wall, warm cache",
    "recolour 100 of ",
    "recolour everything on screen",
    "bytes per update, 100 grids",
    "JS heap of /wall after GC",
)


def test_map_benchmark_prints_its_figures() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWATCH_")}
    env |= {"RUNS": "1", "DELTAS": "5", "FULL": "2", "INTERVAL": "0.2", "DURATION": "10"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.map_render"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, (out[-2000:], done.stderr[-3000:])
    lines = out.splitlines()
    for name in FIGURE_LINES:
        row = next((line for line in lines if line.startswith(name)), None)
        assert row is not None, (name, out[-3000:])
        assert row.rstrip().endswith(("PASS", "MISS")) or "B" in row or "warm" in name, row
    summary = lines[-1]
    assert summary.startswith("map_render: first render "), summary
    assert summary.count("PASS") + summary.count("MISS") == 4, summary
    # Each timed delta was drawn in the frame it was measured at.
    assert "recolour 100 grids: " in out and " 0 frames with the redraw still pending" in out, out[-3000:]
