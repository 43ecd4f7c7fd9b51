"""The shared data set beside the checkout (../shared/data): find a file in it, or skip without it.

CI clones the repository with ``shared/`` beside it, so there a missing file fails the test;
a checkout on its own (a fresh clone, freshroot) skips those tests and says why.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """Return a path under ../shared/data; skip the calling test if it is absent (fail under CI)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        message = f"shared data missing: {path} (it sits beside the checkout as ../shared/data)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
