"""Verification tasks: what the data platform pushes, what grid workers record, what leaders watch.

Every door (the REST API, the /tasks page, the CLI) goes through here, so each refuses the same
things:

- A push comes from an API client holding the ``verification`` scope; every task must land on a
  grid of the city (a grid code, or a point the locator puts in a grid) inside the client's unit.
  A batch is all or nothing: one bad task refuses the whole batch, naming every bad task, and
  nothing is stored (a platform fixes and re-sends; half a batch would be hard to reconcile).
- A task is completed by a person bound to its very grid whose role may handle cases
  (``Action.HANDLE_CASE``: the grid worker); staff above the grid watch progress
  (``Action.VIEW_CASES``) but do not record visits they did not make.
- The subject (a person) is masked for anyone without ``Action.UNMASK``; unmasking is audited.
- When a batch's deadline passes with tasks pending, one ``verification_overdue`` alert is raised
  per grid (``check_overdue``, called by the case supervisor's loop); it is cleared when the
  grid has no overdue task left.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine

from domain.catalog import t
from domain.permissions import Action, Principal, allowed, in_scope
from domain.verification import (
    BadBatch,
    BadResult,
    Problem,
    Progress,
    TaskState,
    check_result,
    mask_subject,
    parse_batch,
    tally,
)
from geo.hierarchy import Hierarchy, Level
from geo.lookup import GridLocator
from runtime.alert_sink import AlertRaiser
from storage.alert_repository import AlertRepository
from storage.api_client_repository import ApiClient
from storage.audit_repository import AuditRepository
from storage.verification_repository import (
    BatchExists,
    BatchRecord,
    NewBatch,
    NewTask,
    TaskCount,
    TaskNotPending,
    TaskRecord,
    VerificationRepository,
)

__all__ = [
    "OVERDUE_RULE",
    "SCOPE",
    "BadCompletion",
    "BadPush",
    "BatchView",
    "DuplicateBatch",
    "PushDenied",
    "PushResult",
    "TaskDenied",
    "TaskDone",
    "UnknownBatch",
    "UnknownTask",
    "VerificationDenied",
    "VerificationError",
    "VerificationService",
    "verification_service_for",
]

log = logging.getLogger(__name__)
OVERDUE_RULE = "verification_overdue"
SCOPE = "verification"  # the API client scope that may push batches


class VerificationError(ValueError):
    """A verification request that cannot be done as asked; ``key`` names its catalog message."""

    status = 409
    key = "verification.error.unknown"


class BadPush(VerificationError):
    """The batch is invalid or cannot be placed; ``problems`` names each defect by task index."""

    status = 400

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(str(BadBatch(problems)))
        self.problems = tuple(problems)


class PushDenied(BadPush):
    """The client may not push (no scope), or some tasks lie outside its unit."""

    status = 403


class DuplicateBatch(VerificationError):
    """A batch with this external_ref exists already; ``batch_id`` is it."""

    status = 409

    def __init__(self, message: str, batch_id: int) -> None:
        super().__init__(message)
        self.batch_id = batch_id


class VerificationDenied(VerificationError):
    """The caller's role may not see verification tasks."""

    status = 403
    key = "verification.error.denied"


class UnknownBatch(VerificationError):
    """No such batch in the caller's jurisdiction (the two look the same)."""

    status = 404


class UnknownTask(VerificationError):
    """No such task in the caller's jurisdiction (the two look the same)."""

    status = 404
    key = "verification.error.unknown"


class TaskDenied(VerificationError):
    """The caller sees the task but may not complete it (not the worker of its grid)."""

    status = 403
    key = "verification.error.denied"


class TaskDone(VerificationError):
    """The task was completed already."""

    status = 409
    key = "verification.error.done"


class BadCompletion(VerificationError):
    """The result or note cannot be recorded as sent."""

    status = 400
    key = "verification.error.bad_result"


class Locator(Protocol):
    """Maps a point to the code of the grid it lies in (geo.GridLocator)."""

    def locate(self, lon: float, lat: float) -> str | None:
        """The grid of a point, or None outside the city."""


@dataclass(frozen=True, slots=True)
class PushResult:
    """A stored batch, and how many of its tasks went to each grid."""

    batch: BatchRecord
    grids: Mapping[str, int]

    @property
    def tasks(self) -> int:
        """How many tasks the batch holds."""
        return sum(self.grids.values())


@dataclass(frozen=True, slots=True)
class BatchView:
    """A batch as seen from one jurisdiction: its progress there, in all and per grid."""

    batch: BatchRecord
    progress: Progress
    grids: Mapping[str, Progress] = field(default_factory=dict)

    def overdue(self, now: datetime) -> bool:
        """Whether the deadline passed with tasks pending."""
        return now > self.batch.deadline and self.progress.pending > 0


Who = Principal | ApiClient


class VerificationService:
    """Push batches, complete tasks, report progress, supervise deadlines."""

    def __init__(
        self,
        repo: VerificationRepository,
        audit: AuditRepository,
        hierarchy: Hierarchy,
        locator: Locator,
        *,
        alerts: AlertRaiser | None = None,
        open_alert_keys: Callable[[str], list[str]] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.repo = repo
        self._audit = audit
        self._h = hierarchy
        self._locator = locator
        self._alerts = alerts
        self._open_keys = open_alert_keys
        self._clock = clock
        # (batch, grid) overdue events this process raised: once counted, an event id stays counted,
        # so this only saves repeated no-op calls and is never wrong.
        self._raised: set[str] = set()

    def now(self) -> datetime:
        """The service's clock (tests freeze it)."""
        return self._clock()

    # -- pushing ----------------------------------------------------------------------------------
    def push(self, client: ApiClient, data: object, ip: str) -> PushResult:
        """Validate, place and store a batch from an API client; all or nothing.

        BadPush (400) names every bad task; PushDenied (403) a client without the scope or tasks
        outside its unit; DuplicateBatch (409) a known external_ref.
        """
        actor = f"api:{client.name}"
        if not client.may(SCOPE):
            self._push_refused(actor, ip, "scope", 0)
            raise PushDenied([Problem(None, "X-Api-Key", f"this key lacks the {SCOPE!r} scope")])
        now = self._clock()
        try:
            batch = parse_batch(data, now)
        except BadBatch as exc:
            self._push_refused(actor, ip, "invalid", len(exc.problems))
            raise BadPush(exc.problems) from None
        grids: list[str] = []
        problems: list[Problem] = []
        for i, task in enumerate(batch.tasks):
            grid, problem = self._place(i, task.grid_code, task.lon, task.lat)
            grids.append(grid or "")
            if problem is not None:
                problems.append(problem)
        if problems:
            self._push_refused(actor, ip, "placement", len(problems))
            raise BadPush(problems)
        outside = [
            Problem(i, "grid_code", f"grid {g} lies outside this client's unit {client.unit_code}")
            for i, g in enumerate(grids)
            if not in_scope(client.unit_code, g, self._h.ancestors)
        ]
        if outside:
            self._push_refused(actor, ip, "jurisdiction", len(outside))
            raise PushDenied(outside)
        new = NewBatch(
            external_ref=batch.external_ref,
            title=batch.title,
            description=batch.description,
            deadline=batch.deadline,
            created_by=actor,
            created_at=now,
            tasks=[
                NewTask(grid, task.subject.model_dump(exclude_none=True), task.address)
                for grid, task in zip(grids, batch.tasks, strict=True)
            ],
        )
        try:
            stored = self.repo.create(new)
        except BatchExists as exc:
            self._audit.append(
                actor,
                "verification.push",
                f"verification_batch:{exc.batch_id}",
                outcome="refused",
                ip=ip,
                detail={"reason": "duplicate", "external_ref": batch.external_ref},
            )
            raise DuplicateBatch(f"external_ref {batch.external_ref!r} was pushed already", exc.batch_id) from None
        per_grid: dict[str, int] = {}
        for grid in grids:
            per_grid[grid] = per_grid.get(grid, 0) + 1
        self._audit.append(
            actor,
            "verification.push",
            f"verification_batch:{stored.id}",
            ip=ip,
            detail={
                "unit": client.unit_code,
                "external_ref": stored.external_ref,
                "tasks": len(grids),
                "grids": len(per_grid),
                "deadline": stored.deadline.isoformat(),
            },
        )
        return PushResult(stored, dict(sorted(per_grid.items())))

    def _place(
        self, i: int, grid: str | None, lon: float | None, lat: float | None
    ) -> tuple[str | None, Problem | None]:
        """The grid of one task: its grid code (which wins over a point), or where its point lies."""
        if grid is not None:
            if grid not in self._h or self._h.get(grid).level != Level.GRID:
                return None, Problem(i, "grid_code", f"{grid!r} is not a grid of this city")
            return grid, None
        assert lon is not None and lat is not None  # the model insists on one of the two
        found = self._locator.locate(lon, lat)
        if found is None:
            return None, Problem(i, "lon", "the point lies outside the city's grids")
        return found, None

    def _push_refused(self, actor: str, ip: str, reason: str, problems: int) -> None:
        self._audit.append(
            actor,
            "verification.push",
            "verification_batch:-",
            outcome="refused",
            ip=ip,
            detail={"reason": reason, "problems": problems},
        )

    # -- seeing -----------------------------------------------------------------------------------
    def unit_of(self, who: Who) -> str:
        """The jurisdiction a caller sees; VerificationDenied if they may not see tasks at all."""
        if isinstance(who, ApiClient):
            if not who.may(SCOPE):
                raise VerificationDenied(f"this key lacks the {SCOPE!r} scope")
            return who.unit_code
        if not allowed(who, Action.VIEW_CASES):
            raise VerificationDenied("your role may not see verification tasks")
        return who.unit_code

    def grids_of(self, unit: str) -> frozenset[str] | None:
        """The grids of a jurisdiction for a query (None: the whole city, no filter needed)."""
        if unit == self._h.city.code:
            return None
        return self._grids(unit)

    @functools.lru_cache(maxsize=256)  # noqa: B019  # one service per process; the tree never changes
    def _grids(self, unit: str) -> frozenset[str]:
        try:
            return frozenset(self._h.grids_under(unit))
        except KeyError:
            return frozenset()

    def batches(self, who: Who, *, now: datetime | None = None) -> list[BatchView]:
        """The batches with tasks in the caller's jurisdiction, newest first, with progress there."""
        return self.views_for_unit(self.unit_of(who), now=now)

    def views_for_unit(self, unit: str, *, now: datetime | None = None, per_grid: bool = False) -> list[BatchView]:
        """The batches with tasks under a unit, with progress there (no permission check: callers do it)."""
        grids = self.grids_of(unit)
        if grids is not None and not grids:
            return []
        return self._views(self.repo.counts(grids), now or self._clock(), per_grid=per_grid)

    def batch(self, who: Who, batch_id: int, *, now: datetime | None = None) -> BatchView:
        """One batch's progress per grid inside the caller's jurisdiction; UnknownBatch if none is."""
        grids = self.grids_of(self.unit_of(who))
        counts = self.repo.counts(grids, batch_id=batch_id) if grids is None or grids else []
        views = self._views(counts, now or self._clock(), per_grid=True)
        if not views:
            raise UnknownBatch(f"no batch {batch_id}")
        return views[0]

    def _views(self, counts: Iterable[TaskCount], now: datetime, *, per_grid: bool) -> list[BatchView]:
        by_batch: dict[int, dict[str, list[TaskCount]]] = {}
        for c in counts:
            by_batch.setdefault(c.batch_id, {}).setdefault(c.grid_code, []).append(c)
        out = []
        for batch in self.repo.batches(by_batch):
            past = now > batch.deadline
            grids = {
                grid: tally(((c.state, c.result, c.n) for c in rows), past_deadline=past)
                for grid, rows in sorted(by_batch[batch.id].items())
            }
            total = sum(grids.values(), Progress())
            out.append(BatchView(batch, total, grids if per_grid else {}))
        return out

    def tasks(
        self,
        principal: Principal,
        *,
        grid: str | None = None,
        state: TaskState | None = None,
        batch_id: int | None = None,
        limit: int = 500,
    ) -> list[TaskRecord]:
        """Tasks in the principal's jurisdiction (or on one grid inside it); UnknownBatch-like 404 outside."""
        unit = self.unit_of(principal)
        if grid is not None:
            if grid not in self._h or not in_scope(unit, grid, self._h.ancestors):
                raise VerificationDenied(f"grid {grid} is outside your jurisdiction")
            grids: Collection[str] | None = self._grids(grid)
        else:
            grids = self.grids_of(unit)
        if grids is not None and not grids:
            return []
        return self.repo.tasks(grids, state=state, batch_id=batch_id, limit=limit)

    def wire_task(
        self,
        task: TaskRecord,
        batch: BatchRecord,
        *,
        now: datetime,
        clear: bool = False,
    ) -> dict[str, Any]:
        """A task as lists show it; the subject masked unless ``clear`` (see ``may_unmask``)."""
        return {
            "id": task.id,
            "batch_id": task.batch_id,
            "batch_title": batch.title,
            "deadline": batch.deadline.isoformat(),
            "grid_code": task.grid_code,
            "grid_name": self._h.get(task.grid_code).name if task.grid_code in self._h else task.grid_code,
            "subject": dict(task.subject) if clear else mask_subject(task.subject),
            "address": task.address,
            "state": task.state.value,
            "result": task.result.value if task.result else None,
            "note": task.note,
            "done_by": task.done_by,
            "done_at": task.done_at.isoformat() if task.done_at else None,
            "overdue": task.state is TaskState.PENDING and now > batch.deadline,
        }

    def wire_tasks(
        self, principal: Principal, tasks: Sequence[TaskRecord], *, unmask: bool = False, ip: str = ""
    ) -> list[dict[str, Any]]:
        """Tasks for a listing: masked, or in clear for a caller with UNMASK who asked (audited once)."""
        clear = unmask and allowed(principal, Action.UNMASK)
        if unmask:
            self._audit.append(
                principal.username,
                "unmask",
                "verification_tasks",
                outcome="ok" if clear else "denied",
                ip=ip,
                detail={"unit": principal.unit_code, "tasks": [t.id for t in tasks][:200]},
            )
        batches = {b.id: b for b in self.repo.batches({t.batch_id for t in tasks})}
        now = self._clock()
        return [self.wire_task(t, batches[t.batch_id], now=now, clear=clear) for t in tasks]

    # -- completing -------------------------------------------------------------------------------
    def complete(self, principal: Principal, task_id: int, result: str, note: str, ip: str) -> TaskRecord:
        """Record a visit's result on a pending task of the principal's own grid.

        UnknownTask (404) outside the jurisdiction, TaskDenied (403) for anyone but the worker of
        the task's grid, BadCompletion (400) for a bad result or a missing note, TaskDone (409)
        when the task was completed already.
        """
        try:
            task = self.repo.task(int(task_id))
        except (KeyError, TypeError, ValueError, OverflowError):
            raise UnknownTask(f"no task {task_id}") from None
        target = f"verification_task:{task.id}"
        if not allowed(principal, Action.VIEW_CASES) or not in_scope(
            principal.unit_code, task.grid_code, self._h.ancestors
        ):
            self._refused(principal, target, ip, task.grid_code, "jurisdiction")
            raise UnknownTask(f"no task {task_id}")
        if not allowed(principal, Action.HANDLE_CASE) or principal.unit_code != task.grid_code:
            self._refused(principal, target, ip, task.grid_code, "not the worker of this grid")
            raise TaskDenied(f"only the worker of grid {task.grid_code} completes its tasks")
        try:
            value, clean = check_result(result, note)
        except BadResult as exc:
            bad = BadCompletion(str(exc))
            bad.key = exc.key
            raise bad from None
        now = self._clock()
        try:
            done = self.repo.complete(task.id, value, clean, principal.username, now)
        except TaskNotPending:
            self._refused(principal, target, ip, task.grid_code, "done already")
            raise TaskDone(f"task {task.id} was completed already") from None
        detail: dict[str, object] = {"unit": task.grid_code, "batch": task.batch_id, "result": value.value}
        if clean:
            detail["note"] = clean
        self._audit.append(principal.username, "verification.complete", target, ip=ip, detail=detail)
        self._clear_if_done(done, now)
        return done

    def _refused(self, principal: Principal, target: str, ip: str, grid: str, reason: str) -> None:
        self._audit.append(
            principal.username,
            "verification.complete",
            target,
            outcome="refused",
            ip=ip,
            detail={"unit": grid, "reason": reason},
        )

    def _clear_if_done(self, task: TaskRecord, now: datetime) -> None:
        """Clear the grid's overdue alert once it has no overdue task left."""
        if self._alerts is None or now <= self.repo.batch(task.batch_id).deadline:
            return
        try:
            if not self.repo.overdue(now, [task.grid_code]):
                self._alerts.clear_external(OVERDUE_RULE, task.grid_code, now)
        except Exception:  # the result is stored; the supervisor clears it on its next pass
            log.warning("could not clear the overdue alert of grid %s", task.grid_code, exc_info=True)

    # -- supervising ------------------------------------------------------------------------------
    def check_overdue(self, now: datetime) -> int:
        """Raise one alert per grid with overdue tasks, clear those whose grid caught up; return raised."""
        if self._alerts is None:
            return 0
        rows = self.repo.overdue(now)
        titles: dict[int, str] = {}
        raised = 0
        for batch_id, grid, pending in rows:
            event_id = f"verification:{batch_id}:{grid}:overdue"  # a retried pass counts once
            if event_id in self._raised:
                continue
            if batch_id not in titles:
                titles[batch_id] = self.repo.batch(batch_id).title
            name = self._h.get(grid).name if grid in self._h else grid
            text = t("verification.alert_text", "zh-CN", grid=name, title=titles[batch_id], n=pending)
            self._alerts.raise_external(OVERDUE_RULE, grid, grid, text[:500], now, event_id=event_id)
            self._raised.add(event_id)
            raised += 1
        if self._open_keys is not None:
            late = {grid for _, grid, _ in rows}
            prefix = f"{OVERDUE_RULE}:"
            for key in self._open_keys(prefix):
                grid = key[len(prefix) :]
                if grid not in late:
                    self._alerts.clear_external(OVERDUE_RULE, grid, now)
        return raised


class _LazyLocator:
    """Build the grid index on first use: most processes (the worker) never place a point."""

    def __init__(self, hierarchy: Hierarchy) -> None:
        self._h = hierarchy
        self._locator: GridLocator | None = None

    def locate(self, lon: float, lat: float) -> str | None:
        """The grid of a point, or None outside the city."""
        if self._locator is None:
            self._locator = GridLocator(self._h.at_level(Level.GRID))
        return self._locator.locate(lon, lat)


def verification_service_for(
    engine: Engine, hierarchy: Hierarchy, alerts: AlertRaiser | None, alert_repo: AlertRepository | None
) -> VerificationService:
    """The verification service of one process."""
    return VerificationService(
        VerificationRepository(engine),
        AuditRepository(engine),
        hierarchy,
        _LazyLocator(hierarchy),
        alerts=alerts,
        open_alert_keys=alert_repo.open_dedup_keys if alert_repo is not None else None,
    )
