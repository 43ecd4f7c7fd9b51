"""Verification batches: what is valid (every defect named per task), what a result needs, how progress adds up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.catalog import t
from domain.verification import (
    MAX_TASKS,
    BadBatch,
    BadResult,
    Progress,
    TaskResult,
    TaskState,
    check_result,
    mask_subject,
    parse_batch,
    tally,
)

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
GOOD_TASK = {"grid_code": "990101001001001", "subject": {"name": "张三", "phone": "13812345678"}, "address": "1栋"}


def body(tasks: list[Any] | None = None, **over: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "external_ref": "risk-2026-11-23",
        "title": "风险地区返回人员核查",
        "deadline": "2026-11-24T18:00:00+08:00",
        "tasks": [GOOD_TASK] if tasks is None else tasks,
    }
    out.update(over)
    return out


def problems(data: object) -> set[tuple[int | None, str]]:
    with pytest.raises(BadBatch) as exc:
        parse_batch(data, NOW)
    assert all(p.message for p in exc.value.problems)
    return {(p.task, p.field) for p in exc.value.problems}


def test_a_valid_batch_is_read_with_the_deadline_in_utc_and_text_trimmed() -> None:
    point = {"lon": 118.8, "lat": 32.05, "subject": {"name": " 李四 ", "id_number": "3201**********123X"}}
    batch = parse_batch(body([GOOD_TASK, point], title="  核查  "), NOW)
    assert batch.deadline == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert batch.title == "核查" and batch.description == ""
    assert batch.tasks[0].grid_code == "990101001001001"
    assert batch.tasks[1].grid_code is None and (batch.tasks[1].lon, batch.tasks[1].lat) == (118.8, 32.05)
    assert batch.tasks[1].subject.name == "李四"


def test_every_bad_task_is_named_by_its_index() -> None:
    tasks = [
        GOOD_TASK,
        {"grid_code": "g"},  # no subject
        {"grid_code": "g", "subject": {"name": "王五"}},  # no id number, no phone
        {"lon": 118.8, "subject": GOOD_TASK["subject"]},  # half a point
        {"address": "某小区", "subject": GOOD_TASK["subject"]},  # nowhere to place it
        {"grid_code": "g", "subject": {"name": "", "phone": "138"}},  # empty name, short phone
        {"grid_code": "g", "subject": GOOD_TASK["subject"], "age": 40},  # a field we do not know
        {"lon": 200, "lat": 32, "subject": GOOD_TASK["subject"]},  # not a longitude
        "not an object",
    ]
    assert problems(body(tasks)) == {
        (1, "subject"),
        (2, "subject"),
        (3, ""),
        (4, ""),
        (5, "subject.name"),
        (5, "subject.phone"),
        (6, "age"),
        (7, "lon"),
        (8, ""),
    }


def test_the_batch_itself_is_checked_too_and_reported_beside_its_tasks() -> None:
    past = (NOW - timedelta(minutes=1)).isoformat()
    assert problems(body(deadline=past)) == {(None, "deadline")}
    assert problems(body(deadline=NOW.isoformat())) == {(None, "deadline")}  # due now is not in the future
    assert problems(body(deadline="2026-11-24T18:00:00")) == {(None, "deadline")}  # no offset
    assert problems(body(external_ref="has space", title="")) == {(None, "external_ref"), (None, "title")}
    assert problems(body([])) == {(None, "tasks")}
    assert problems(body([GOOD_TASK] * (MAX_TASKS + 1))) == {(None, "tasks")}
    # A bad header does not hide the bad tasks.
    assert problems(body([GOOD_TASK, {"grid_code": "g"}], title="")) == {(None, "title"), (1, "subject")}
    assert problems({"title": "x"}) >= {(None, "external_ref"), (None, "deadline"), (None, "tasks")}
    assert problems(["not", "a", "batch"]) == {(None, "")}


def test_a_result_needs_a_note_unless_it_passed() -> None:
    assert check_result("pass", "") == (TaskResult.PASS, "")
    assert check_result("fail", "  不在家  ") == (TaskResult.FAIL, "不在家")
    for result in ("fail", "unreachable"):
        with pytest.raises(BadResult) as exc:
            check_result(result, "   ")
        assert exc.value.key == "verification.error.need_note"
    with pytest.raises(BadResult) as exc:
        check_result("maybe", "x")
    assert exc.value.key == "verification.error.bad_result"
    with pytest.raises(BadResult) as exc:
        check_result("fail", "x" * 2001)
    assert exc.value.key == "verification.error.note_too_long"
    for key in ("verification.error.need_note", "verification.error.bad_result", "verification.error.note_too_long"):
        assert t(key, "zh-CN") != t(key, "en")


@pytest.mark.parametrize("past", [False, True])
def test_progress_counts_outcomes_and_overdue_only_after_the_deadline(past: bool) -> None:
    counts = [
        (TaskState.DONE, TaskResult.PASS, 4),
        (TaskState.DONE, TaskResult.FAIL, 2),
        (TaskState.DONE, TaskResult.UNREACHABLE, 1),
        (TaskState.PENDING, None, 3),
    ]
    p = tally(counts, past_deadline=past)
    assert (p.total, p.done, p.pending, p.passed, p.failed, p.unreachable) == (10, 7, 3, 4, 2, 1)
    assert p.overdue == (3 if past else 0)
    assert not p.complete
    assert tally([(TaskState.DONE, TaskResult.PASS, 2)], past_deadline=True) == Progress(2, 2, 2, 0, 0, 0)
    assert tally([(TaskState.DONE, TaskResult.PASS, 2)], past_deadline=True).complete
    assert not Progress().complete  # nothing to do is not "complete"


def test_progress_adds_up_across_grids_and_goes_on_the_wire() -> None:
    a = Progress(total=3, done=1, passed=1, overdue=2)
    b = Progress(total=2, done=2, failed=1, unreachable=1)
    total = sum([a, b], Progress())
    assert total == Progress(total=5, done=3, passed=1, failed=1, unreachable=1, overdue=2)
    assert total.to_wire() == {
        "total": 5,
        "done": 3,
        "pending": 2,
        "passed": 1,
        "failed": 1,
        "unreachable": 1,
        "overdue": 2,
    }


def test_a_subject_is_masked_field_by_field() -> None:
    subject = {"name": "欧阳娜娜", "id_number": "32010219800101123X", "phone": "13812345678"}
    assert mask_subject(subject) == {"name": "欧***", "id_number": "3201**********123X", "phone": "138****5678"}
    assert mask_subject({"name": "张三"}) == {"name": "张*"}
