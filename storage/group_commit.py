"""Group commit: callers that write at the same moment share one transaction and one commit.

A commit is the expensive part of a small write (the WAL append and, now and then, a
checkpoint), so threads that call at once are served together: the first caller leads and
applies every request queued meanwhile in one transaction, then hands the lead to the next
waiting caller. Each caller still returns only after its own request is committed, with its
own result, so nothing about durability or the caller's view changes. If a shared
transaction fails, each request of that group is retried alone, so one caller's bad request
never fails another's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

Req = TypeVar("Req")
Res = TypeVar("Res")


class _Pending(Generic[Req, Res]):
    __slots__ = ("error", "event", "lead", "request", "result")

    def __init__(self, request: Req) -> None:
        self.request = request
        self.event = threading.Event()
        self.lead = False
        self.result: Res | None = None
        self.error: BaseException | None = None

    def outcome(self) -> Res:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]  # set together with the event


class GroupCommit(Generic[Req, Res]):
    """Serve concurrent requests in shared transactions; ``apply`` runs one transaction for a group."""

    def __init__(self, apply: Callable[[Sequence[Req]], list[Res]], max_group: int = 256) -> None:
        self._apply = apply
        self._max = max_group
        self._lock = threading.Lock()
        self._queue: list[_Pending[Req, Res]] = []
        self._busy = False
        self.groups = 0  # transactions run, for the benchmark's figures
        self.requests = 0

    def submit(self, request: Req) -> Res:
        """Apply one request, together with whatever other threads submit meanwhile; return its result."""
        mine: _Pending[Req, Res] = _Pending(request)
        with self._lock:
            self._queue.append(mine)
            lead = not self._busy
            self._busy = True
        if not lead:
            mine.event.wait()
            if not mine.lead:
                return mine.outcome()
        with self._lock:
            group, self._queue = self._queue[: self._max], self._queue[self._max :]
        try:
            self._run(group)
        finally:
            with self._lock:
                if self._queue:  # keep the lead in a caller's hands: the next one in line runs the next group
                    self._queue[0].lead = True
                    self._queue[0].event.set()
                else:
                    self._busy = False
        return mine.outcome()

    def _run(self, group: list[_Pending[Req, Res]]) -> None:
        self.groups += 1
        self.requests += len(group)
        try:
            try:
                results = self._apply([p.request for p in group])
            except Exception as exc:  # noqa: BLE001 - handed to the callers, who raise it
                if len(group) == 1:
                    group[0].error = exc
                else:
                    for p in group:
                        self._run_alone(p)
            else:
                for p, result in zip(group, results, strict=True):
                    p.result = result
        finally:
            for p in group:  # even when interrupted: no caller may wait for ever
                if p.result is None and p.error is None:
                    p.error = RuntimeError("the shared transaction was interrupted")
                p.lead = False
                p.event.set()

    def _run_alone(self, p: _Pending[Req, Res]) -> None:
        try:
            p.result = self._apply([p.request])[0]
        except Exception as exc:  # noqa: BLE001 - handed to its own caller, who raises it
            p.error = exc
