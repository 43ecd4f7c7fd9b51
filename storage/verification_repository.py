"""Verification batches and tasks in SQL: a batch and all its tasks in one transaction.

A batch is idempotent on the platform's ``external_ref`` (a retried push finds the batch it
already made). Completing a task is one conditional UPDATE ``… WHERE state = 'pending'``: of
two completions, exactly one wins and the other gets ``TaskNotPending``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, Row, Select, Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from domain.verification import TaskResult, TaskState
from storage.case_models import VerificationBatchRow, VerificationTaskRow

__all__ = [
    "BatchExists",
    "BatchRecord",
    "NewBatch",
    "NewTask",
    "TaskCount",
    "TaskNotPending",
    "TaskRecord",
    "VerificationRepository",
]

_B = cast(Table, VerificationBatchRow.__table__)
_T = cast(Table, VerificationTaskRow.__table__)
_CHUNK = 900  # codes per IN (...), well under SQLite's variable limit


class BatchExists(ValueError):
    """A batch with this external reference was already pushed; ``batch_id`` is that batch."""

    def __init__(self, external_ref: str, batch_id: int) -> None:
        super().__init__(f"batch {external_ref!r} exists as #{batch_id}")
        self.batch_id = batch_id


class TaskNotPending(RuntimeError):
    """The task is already done (someone completed it first)."""


@dataclass(frozen=True, slots=True)
class NewTask:
    """A task placed on its grid."""

    grid_code: str
    subject: dict[str, str]
    address: str = ""


@dataclass(frozen=True, slots=True)
class NewBatch:
    """A validated, placed batch."""

    external_ref: str
    title: str
    description: str
    deadline: datetime
    created_by: str
    created_at: datetime
    tasks: Sequence[NewTask]


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """A stored batch."""

    id: int
    external_ref: str
    title: str
    description: str
    created_at: datetime
    deadline: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A stored task; ``subject`` is personal data."""

    id: int
    batch_id: int
    grid_code: str
    subject: dict[str, str]
    address: str
    state: TaskState
    result: TaskResult | None
    note: str
    done_by: str | None
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class TaskCount:
    """How many tasks of one batch on one grid are in one state with one result."""

    batch_id: int
    grid_code: str
    state: TaskState
    result: TaskResult | None
    n: int


def _chunks(codes: Collection[str] | None) -> Iterator[list[str] | None]:
    if codes is None:
        yield None
        return
    ordered = sorted(codes)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


class VerificationRepository:
    """Store batches with their tasks, complete tasks, count progress."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- writing ----------------------------------------------------------------------------------
    def create(self, new: NewBatch) -> BatchRecord:
        """Store a batch and all its tasks at once; BatchExists if its external_ref is known."""
        existing = self.by_ref(new.external_ref)
        if existing is not None:
            raise BatchExists(new.external_ref, existing.id)
        try:
            with self._engine.begin() as conn:
                inserted = conn.execute(
                    insert(_B).values(
                        external_ref=new.external_ref,
                        title=new.title,
                        description=new.description,
                        created_at=new.created_at,
                        deadline=new.deadline,
                        created_by=new.created_by,
                    )
                ).inserted_primary_key
                assert inserted is not None
                batch_id = inserted[0]
                conn.execute(
                    insert(_T),
                    [
                        {
                            "batch_id": batch_id,
                            "grid_code": t.grid_code,
                            "subject": json.dumps(t.subject, ensure_ascii=False, sort_keys=True),
                            "address": t.address,
                            "state": TaskState.PENDING.value,
                            "result": None,
                            "note": "",
                            "done_by": None,
                            "done_at": None,
                        }
                        for t in new.tasks
                    ],
                )
        except IntegrityError:  # the same ref pushed twice at once: the other push won
            existing = self.by_ref(new.external_ref)
            if existing is None:
                raise
            raise BatchExists(new.external_ref, existing.id) from None
        return self.batch(int(batch_id))

    def complete(self, task_id: int, result: TaskResult, note: str, by: str, at: datetime) -> TaskRecord:
        """Record the result of a pending task; TaskNotPending if it is done already."""
        with self._engine.begin() as conn:
            done = conn.execute(
                update(_T)
                .where(_T.c.id == task_id, _T.c.state == TaskState.PENDING.value)
                .values(state=TaskState.DONE.value, result=result.value, note=note, done_by=by, done_at=at)
            ).rowcount
        if not done:
            raise TaskNotPending(f"task {task_id} is done already")
        return self.task(task_id)

    # -- reading ----------------------------------------------------------------------------------
    def by_ref(self, external_ref: str) -> BatchRecord | None:
        """The batch with this external reference, if any."""
        with self._engine.connect() as conn:
            row = conn.execute(select(_B).where(_B.c.external_ref == external_ref)).first()
        return _batch(row) if row is not None else None

    def batch(self, batch_id: int) -> BatchRecord:
        """One batch; KeyError if there is none."""
        with self._engine.connect() as conn:
            row = conn.execute(select(_B).where(_B.c.id == batch_id)).first()
        if row is None:
            raise KeyError(batch_id)
        return _batch(row)

    def batches(self, ids: Collection[int]) -> list[BatchRecord]:
        """These batches, newest first."""
        if not ids:
            return []
        with self._engine.connect() as conn:
            rows = conn.execute(select(_B).where(_B.c.id.in_(sorted(ids))).order_by(_B.c.id.desc()))
            return [_batch(r) for r in rows]

    def task(self, task_id: int) -> TaskRecord:
        """One task; KeyError if there is none."""
        with self._engine.connect() as conn:
            row = conn.execute(select(_T).where(_T.c.id == task_id)).first()
        if row is None:
            raise KeyError(task_id)
        return _task(row)

    def tasks(
        self,
        grids: Collection[str] | None,
        *,
        state: TaskState | None = None,
        batch_id: int | None = None,
        limit: int = 500,
    ) -> list[TaskRecord]:
        """Tasks on these grids (None: every grid), oldest batch first, then in the order pushed."""
        out: list[TaskRecord] = []
        with self._engine.connect() as conn:
            for chunk in _chunks(grids):
                stmt = select(_T)
                if chunk is not None:
                    stmt = stmt.where(_T.c.grid_code.in_(chunk))
                if state is not None:
                    stmt = stmt.where(_T.c.state == state.value)
                if batch_id is not None:
                    stmt = stmt.where(_T.c.batch_id == batch_id)
                out += [_task(r) for r in conn.execute(stmt.order_by(_T.c.id).limit(limit))]
        out.sort(key=lambda t: t.id)
        return out[:limit]

    def counts(self, grids: Collection[str] | None, *, batch_id: int | None = None) -> list[TaskCount]:
        """Task counts by batch, grid, state and result, on these grids (None: every grid)."""
        out: list[TaskCount] = []
        with self._engine.connect() as conn:
            for chunk in _chunks(grids):
                stmt: Select[Any] = select(_T.c.batch_id, _T.c.grid_code, _T.c.state, _T.c.result, func.count())
                if chunk is not None:
                    stmt = stmt.where(_T.c.grid_code.in_(chunk))
                if batch_id is not None:
                    stmt = stmt.where(_T.c.batch_id == batch_id)
                stmt = stmt.group_by(_T.c.batch_id, _T.c.grid_code, _T.c.state, _T.c.result)
                out += [
                    TaskCount(
                        int(r[0]), r[1], TaskState(r[2]), TaskResult(r[3]) if r[3] is not None else None, int(r[4])
                    )
                    for r in conn.execute(stmt)
                ]
        return out

    def overdue(self, now: datetime, grids: Collection[str] | None = None) -> list[tuple[int, str, int]]:
        """(batch id, grid, pending tasks) of batches past their deadline that still have pending tasks."""
        out: list[tuple[int, str, int]] = []
        with self._engine.connect() as conn:
            for chunk in _chunks(grids):
                stmt: Select[Any] = (
                    select(_T.c.batch_id, _T.c.grid_code, func.count())
                    .join(_B, _B.c.id == _T.c.batch_id)
                    .where(_T.c.state == TaskState.PENDING.value, _B.c.deadline < now)
                )
                if chunk is not None:
                    stmt = stmt.where(_T.c.grid_code.in_(chunk))
                stmt = stmt.group_by(_T.c.batch_id, _T.c.grid_code).order_by(_T.c.batch_id, _T.c.grid_code)
                out += [(int(r[0]), r[1], int(r[2])) for r in conn.execute(stmt)]
        return out


def _batch(row: Row[Any]) -> BatchRecord:
    return BatchRecord(**row._asdict())


def _task(row: Row[Any]) -> TaskRecord:
    d = row._asdict()
    d["subject"] = json.loads(d["subject"])
    d["state"] = TaskState(d["state"])
    d["result"] = TaskResult(d["result"]) if d["result"] is not None else None
    return TaskRecord(**d)
