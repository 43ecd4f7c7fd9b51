"""Group commit: concurrent callers share one apply, each gets its own result or its own error."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from storage.group_commit import GroupCommit


class Recorder:
    """An apply function that holds the first group until the others are queued behind it."""

    def __init__(self) -> None:
        self.groups: list[list[int]] = []
        self.release = threading.Event()

    def __call__(self, requests: Sequence[int]) -> list[int]:
        if not self.groups:
            self.groups.append(list(requests))
            assert self.release.wait(5)
        else:
            self.groups.append(list(requests))
        if any(r < 0 for r in requests):
            raise ValueError("negative")
        return [r * 10 for r in requests]


def run_all(commit: GroupCommit[int, int], rec: Recorder, requests: list[int]) -> dict[int, object]:
    """Submit from one thread per request, the first one alone; return each caller's result or error."""
    results: dict[int, object] = {}

    def call(r: int) -> None:
        try:
            results[r] = commit.submit(r)
        except ValueError as exc:
            results[r] = exc

    threads = [threading.Thread(target=call, args=(r,)) for r in requests]
    threads[0].start()
    deadline = time.monotonic() + 5
    while not rec.groups and time.monotonic() < deadline:  # the first caller leads and is held
        time.sleep(0.005)
    for t in threads[1:]:
        t.start()
    while len(commit._queue) < len(requests) - 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    rec.release.set()
    for t in threads:
        t.join(5)
    return results


def test_callers_that_arrive_meanwhile_share_the_next_group_and_get_their_own_results() -> None:
    rec = Recorder()
    commit: GroupCommit[int, int] = GroupCommit(rec)
    results = run_all(commit, rec, [1, 2, 3, 4, 5])
    assert rec.groups[0] == [1] and sorted(rec.groups[1]) == [2, 3, 4, 5]
    assert results == {1: 10, 2: 20, 3: 30, 4: 40, 5: 50}
    assert commit.groups == 2 and commit.requests == 5


def test_one_bad_request_fails_only_its_own_caller() -> None:
    rec = Recorder()
    commit: GroupCommit[int, int] = GroupCommit(rec)
    results = run_all(commit, rec, [1, 2, -3, 4])
    assert {k: v for k, v in results.items() if k > 0} == {1: 10, 2: 20, 4: 40}
    assert isinstance(results[-3], ValueError)


def test_a_lone_caller_gets_its_error() -> None:
    commit: GroupCommit[int, int] = GroupCommit(lambda rs: [1 // r for r in rs])
    with pytest.raises(ZeroDivisionError):
        commit.submit(0)
    assert commit.submit(1) == 1
