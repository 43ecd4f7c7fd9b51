"""Strings of the verification tasks (核查任务): the /tasks page, its messages, the overdue alert."""

from __future__ import annotations

from collections.abc import Mapping

STRINGS: Mapping[str, tuple[str, str]] = {
    "nav.tasks": ("核查任务", "Verification tasks"),
    "verification.title": ("核查任务", "Verification tasks"),
    "verification.my_tasks": ("本网格待核查", "To check in my grid"),
    "verification.none_pending": ("本网格暂无待核查任务", "Nothing to check in your grid"),
    "verification.progress": ("各批次核查进度", "Progress per batch"),
    "verification.refresh": ("刷新", "Refresh"),
    "verification.no_batches": ("辖区内暂无核查批次", "No verification batches in your jurisdiction"),
    "verification.deadline": ("截止：{deadline}", "Due: {deadline}"),
    "verification.overdue": ("已超期", "Overdue"),
    "verification.note": ("核查情况（不通过或联系不上时必填）", "What you found (needed for fail or unreachable)"),
    "verification.pass": ("核查通过", "Pass"),
    "verification.fail": ("核查不通过", "Fail"),
    "verification.unreachable": ("联系不上", "Unreachable"),
    "verification.done": ("任务 #{id} 已记录：{result}", "Task #{id} recorded: {result}"),
    "verification.col.batch": ("批次", "Batch"),
    "verification.col.grid": ("网格", "Grid"),
    "verification.col.done": ("完成/总数", "Done/total"),
    "verification.col.passed": ("通过", "Passed"),
    "verification.col.failed": ("不通过", "Failed"),
    "verification.col.unreachable": ("联系不上", "Unreachable"),
    "verification.col.overdue": ("超期", "Overdue"),
    "verification.col.deadline": ("截止时间", "Deadline"),
    "verification.all_grids": ("合计", "All grids"),
    "verification.error.need_task": ("请选择一项任务", "Choose a task first"),
    "verification.error.need_note": (
        "选择「不通过」或「联系不上」时请填写核查情况",
        "Say what you found when the result is fail or unreachable",
    ),
    "verification.error.note_too_long": ("核查情况不能超过 2000 字", "The note is at most 2000 characters"),
    "verification.error.bad_result": ("无效的核查结果", "Unknown result"),
    "verification.error.done": ("任务 #{id} 已被完成，无需重复提交", "Task #{id} was completed already"),
    "verification.error.denied": ("只能完成本网格的任务", "You may complete only your own grid's tasks"),
    "verification.error.unknown": ("任务不存在", "No such task"),
    "verification.alert_text": (
        "核查任务超期：{grid}「{title}」{n} 项未完成",
        "Verification overdue: {grid}, '{title}', {n} not done",
    ),
}
