"""The Socket.IO fan-out benchmark runs end to end on a CI-sized ladder and prints its figure line.

Not a timed assertion: the figures of a shared machine prove nothing here. It checks that the real
app served logged-in sockets, that the pushes went through the real path and arrived numbered, and
that the output has the lines a reader (and the Makefile's bench run) relies on.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.processes import ROOT

# The benchmark starts its own app processes on their own SQLite files: the PostgreSQL pass skips it.
pytestmark = pytest.mark.benchmark


def test_the_fanout_benchmark_runs_and_prints_its_figures(tmp_path: object) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWATCH_")}
    env |= {"LADDER": "20,40", "WARM": "1", "WINDOW": "2", "GW_PEER_FANOUT": str(ROOT / "no-such-peer-script")}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.socket_fanout"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert "no-such-peer-script is absent: no ratio" in out  # no peer script: said so, no ratio
    for server in ("web-gevent", "web"):  # the default stacks: gunicorn's gevent worker, then its gthread worker
        pattern = rf"gridwatch/{server} +N=\s*20: connected (\d+)/20, delivery ([\d.]+)% \((\d+)/(\d+), gaps (\d+)"
        first = re.search(pattern, out)
        assert first, out
        connected, _, delivered, _, gaps = first.groups()
        assert int(connected) == 20 and int(delivered) > 0 and int(gaps) == 0, out
        assert re.search(rf"\| 20 \| gridwatch/{server} \| 20/20 \| [\d.]+ % \|", out), out  # the ladder table
    assert re.search(r"B/update", out), out  # bytes per update measured on the wire
    last = out.strip().splitlines()[-1]
    assert re.match(r"socket-fanout: \d+ clients \(max N with p99<= 250 ms at 2 Hz per client; .*ratio n/a\)$", last), (
        last
    )
