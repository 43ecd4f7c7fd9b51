"""Verification tasks: batches of person-level checks the city's data platform pushes to the grids.

A batch ("check these residents returning from a risk area") has one deadline and one task per
person; each task lands on one grid, whose worker visits and records a result. This module is
the pure part: what a valid batch looks like (every defect named with the index of its task),
what a result needs, and how tasks add up to progress per grid and per batch.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from domain.personal_data import PersonalField, mask_record

__all__ = [
    "MAX_TASKS",
    "SUBJECT_FIELDS",
    "BadBatch",
    "BadResult",
    "BatchInput",
    "Problem",
    "Progress",
    "Subject",
    "TaskInput",
    "TaskResult",
    "TaskState",
    "check_result",
    "mask_subject",
    "parse_batch",
    "tally",
]

MAX_TASKS = 5000  # one batch; a platform with more sends several
MAX_NOTE = 2000


class TaskState(enum.StrEnum):
    """Where a task is: waiting for its grid worker, or done with a result."""

    PENDING = "pending"
    DONE = "done"


class TaskResult(enum.StrEnum):
    """What the visit found."""

    PASS = "pass"  # noqa: S105  # a result, not a secret; verified: as the platform stated
    FAIL = "fail"  # not as stated, or a problem found
    UNREACHABLE = "unreachable"  # the person could not be reached


NEEDS_NOTE = frozenset({TaskResult.FAIL, TaskResult.UNREACHABLE})


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


_Text = Annotated[str, StringConstraints(strip_whitespace=True)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
# An identity number may arrive already masked by the platform (3201**********123X).
IdNumber = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9Xx*]{15,18}$")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9*][0-9* -]{4,19}$")]
GridCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=24)]
Deadline = Annotated[AwareDatetime, AfterValidator(_utc)]  # a time without an offset is refused


class Subject(BaseModel):
    """The person to check (personal data: stored as given, shown masked)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Name
    id_number: IdNumber | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _recognisable(self) -> Subject:
        if self.id_number is None and self.phone is None:
            raise ValueError("give id_number or phone, so the worker can tell the person apart")
        return self


class TaskInput(BaseModel):
    """One person to check: where (a grid code, or a point that lies in a grid) and who."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    grid_code: GridCode | None = None
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)] | None = None
    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)] | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    subject: Subject

    @model_validator(mode="after")
    def _placeable(self) -> TaskInput:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither")
        if self.grid_code is None and self.lon is None:
            # There is no geocoder: an address alone cannot be put on a grid.
            raise ValueError("give grid_code or lon/lat (an address alone cannot be placed on a grid)")
        return self


class _Header(BaseModel):
    """A batch without its tasks (they are checked one by one, to name each bad one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    external_ref: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:/-]+$")]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""
    deadline: Deadline
    tasks: Annotated[list[Any], Field(min_length=1, max_length=MAX_TASKS)]


@dataclass(frozen=True, slots=True)
class BatchInput:
    """A valid batch: its header and its tasks in the order sent."""

    external_ref: str
    title: str
    description: str
    deadline: datetime
    tasks: tuple[TaskInput, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One defect: the task's index (None for the batch itself), the field, and what is wrong."""

    task: int | None
    field: str
    message: str

    def to_wire(self) -> dict[str, object]:
        """As the API reports it."""
        return {"task": self.task, "field": self.field, "message": self.message}


class BadBatch(ValueError):
    """A batch that cannot be taken; ``problems`` names every defect found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(f"{_where(p)}: {p.message}" for p in problems[:5]))
        self.problems = tuple(problems)


class BadResult(ValueError):
    """A task result that cannot be recorded as sent; ``key`` names its catalog message."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


def _where(p: Problem) -> str:
    return p.field if p.task is None else f"tasks[{p.task}].{p.field}" if p.field else f"tasks[{p.task}]"


def _problems(exc: ValidationError, task: int | None, skip: int = 0) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())[skip:]]
        msg = str(err.get("msg", "invalid"))
        msg = msg.removeprefix("Value error, ")
        out.append(Problem(task, ".".join(loc), msg))
    return out


def parse_batch(data: object, now: datetime) -> BatchInput:
    """Validate a pushed batch; BadBatch lists every defect, each task's under its index.

    >>> from datetime import timedelta
    >>> now = datetime(2026, 11, 23, tzinfo=UTC)
    >>> try:
    ...     parse_batch({"external_ref": "b1", "title": "t", "deadline": "2026-11-22T00:00:00+08:00",
    ...                  "tasks": [{"grid_code": "g1", "subject": {"name": "张三"}}]}, now)
    ... except BadBatch as exc:
    ...     [(p.task, p.field) for p in exc.problems]
    [(None, 'deadline'), (0, 'subject')]
    """
    problems: list[Problem] = []
    header: _Header | None = None
    tasks_raw: list[Any] = []
    try:
        header = _Header.model_validate(data)
        tasks_raw = header.tasks
    except ValidationError as exc:
        problems += _problems(exc, None)
        if isinstance(data, Mapping) and isinstance(data.get("tasks"), list):
            tasks_raw = data["tasks"][:MAX_TASKS]
        problems = [p for p in problems if not p.field.startswith("tasks.")]
    if header is not None and header.deadline <= now:
        problems.append(Problem(None, "deadline", "the deadline must be in the future"))
    tasks: list[TaskInput] = []
    for i, raw in enumerate(tasks_raw):
        try:
            tasks.append(TaskInput.model_validate(raw))
        except ValidationError as exc:
            problems += _problems(exc, i)
    if problems or header is None:
        raise BadBatch(problems)
    return BatchInput(header.external_ref, header.title, header.description, header.deadline, tuple(tasks))


def check_result(result: str, note: str) -> tuple[TaskResult, str]:
    """The result and note of a completion; BadResult unless fail/unreachable come with a note.

    >>> check_result("pass", "  ")
    (<TaskResult.PASS: 'pass'>, '')
    """
    try:
        value = TaskResult(result)
    except ValueError:
        raise BadResult(
            f"result: one of {', '.join(r.value for r in TaskResult)}", "verification.error.bad_result"
        ) from None
    note = note.strip()
    if value in NEEDS_NOTE and not note:
        raise BadResult(f"note: say what was found when the result is {value.value}", "verification.error.need_note")
    if len(note) > MAX_NOTE:
        raise BadResult(f"note: at most {MAX_NOTE} characters", "verification.error.note_too_long")
    return value, note


SUBJECT_FIELDS: Mapping[str, PersonalField] = {
    "name": PersonalField.NAME,
    "id_number": PersonalField.ID_NUMBER,
    "phone": PersonalField.PHONE,
}


def mask_subject(subject: Mapping[str, object]) -> dict[str, object]:
    """A subject as lists show it to people not cleared to unmask.

    >>> mask_subject({"name": "张三丰", "phone": "13812345678"})
    {'name': '张**', 'phone': '138****5678'}
    """
    return mask_record(subject, SUBJECT_FIELDS)


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a grid (or a batch, or a whole jurisdiction) is: counts of tasks by outcome."""

    total: int = 0
    done: int = 0
    passed: int = 0
    failed: int = 0
    unreachable: int = 0
    overdue: int = 0  # still pending after the deadline

    @property
    def pending(self) -> int:
        """Tasks not done yet."""
        return self.total - self.done

    @property
    def complete(self) -> bool:
        """Whether every task is done."""
        return self.total > 0 and self.done == self.total

    def __add__(self, other: Progress) -> Progress:
        return Progress(
            self.total + other.total,
            self.done + other.done,
            self.passed + other.passed,
            self.failed + other.failed,
            self.unreachable + other.unreachable,
            self.overdue + other.overdue,
        )

    def to_wire(self) -> dict[str, int]:
        """As the API reports it."""
        return {
            "total": self.total,
            "done": self.done,
            "pending": self.pending,
            "passed": self.passed,
            "failed": self.failed,
            "unreachable": self.unreachable,
            "overdue": self.overdue,
        }


_BY_RESULT = {TaskResult.PASS: "passed", TaskResult.FAIL: "failed", TaskResult.UNREACHABLE: "unreachable"}


def tally(counts: Iterable[tuple[TaskState, TaskResult | None, int]], *, past_deadline: bool) -> Progress:
    """Add up (state, result, how many) counts of one deadline's tasks into progress.

    >>> tally([(TaskState.PENDING, None, 2), (TaskState.DONE, TaskResult.FAIL, 1)], past_deadline=True)
    Progress(total=3, done=1, passed=0, failed=1, unreachable=0, overdue=2)
    """
    values = dict.fromkeys(("total", "done", "passed", "failed", "unreachable", "overdue"), 0)
    for state, result, n in counts:
        values["total"] += n
        if state is TaskState.DONE:
            values["done"] += n
            if result is not None:
                values[_BY_RESULT[result]] += n
        elif past_deadline:
            values["overdue"] += n
    return Progress(**values)
