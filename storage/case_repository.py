"""Cases in SQL: one row per case, one row per step, every step conditional on the version it read.

Two people acting on the same case at once cannot both move it: a step is one UPDATE
``… WHERE id = :id AND version = :read``; the loser gets ``StaleCase`` and re-reads. The step
row is written in the same transaction, so the history is exactly the sequence of states.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, Row, Select, Table, func, insert, or_, select, update

from domain.cases import TERMINAL, CaseAction, CaseSource, CaseState
from storage.case_models import CaseFileRow, CasePhotoRow, CaseStepRow
from storage.unit_filter import scoped

__all__ = [
    "CaseFilter",
    "CaseRecord",
    "CaseRepository",
    "NewCase",
    "PhotoRecord",
    "StaleCase",
    "StepRecord",
    "StepWrite",
]

_C = cast(Table, CaseFileRow.__table__)
_S = cast(Table, CaseStepRow.__table__)
_P = cast(Table, CasePhotoRow.__table__)
_OPEN = tuple(s.value for s in CaseState if s not in TERMINAL and s is not CaseState.CLOSED)
_TIMED = (*_OPEN, CaseState.CLOSED.value)  # states with a deadline (a closed case awaits its evaluation)
_CHUNK = 900  # codes per IN (...) (SQLite's variable limit is 32766 since 3.32; stay well under)


class StaleCase(RuntimeError):
    """The case changed since it was read (someone else's step came first)."""


@dataclass(frozen=True, slots=True)
class NewCase:
    """What a source knows of a new case; routing (grid, unit, department, deadline) is decided before."""

    source: CaseSource
    service_code: str
    description: str
    reporter: str
    created_at: datetime
    unit_code: str
    department: str
    due_at: datetime | None
    lon: float | None = None
    lat: float | None = None
    address: str = ""
    grid_code: str | None = None
    contact: dict[str, str] = field(default_factory=dict)
    external_ref: str | None = None
    media_url: str | None = None
    token: str = ""


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """One case as stored."""

    id: int
    token: str
    source: CaseSource
    service_code: str
    description: str
    lon: float | None
    lat: float | None
    address: str
    grid_code: str | None
    unit_code: str
    department: str
    state: CaseState
    state_since: datetime
    due_at: datetime | None
    assignee: str | None
    reporter: str
    contact: dict[str, str]
    external_ref: str | None
    media_url: str | None
    created_at: datetime
    updated_at: datetime
    reopen_count: int
    satisfaction: int | None
    handled_at: datetime | None
    handled_by: str | None
    handled_on_time: bool | None
    closed_at: datetime | None
    overdue_alerted: str | None
    version: int

    def overdue(self, now: datetime) -> bool:
        """Whether the case has stayed in its state past the limit."""
        return self.due_at is not None and now > self.due_at


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One stored workflow step."""

    id: int
    case_id: int
    ts: datetime
    actor: str
    action: str
    from_state: str
    to_state: str
    note: str
    unit_code: str
    department: str
    assignee: str | None
    due_at: datetime | None
    on_time: bool | None


@dataclass(frozen=True, slots=True)
class PhotoRecord:
    """A photo's metadata (the bytes are on disk under ``filename``)."""

    id: int
    case_id: int
    filename: str
    mime: str
    size: int
    sha256: str
    uploaded_by: str
    ts: datetime


@dataclass(frozen=True, slots=True)
class StepWrite:
    """A planned step with everything it changes.

    ``moves``: a dispatch or reassignment, which sets unit, grid, department and assignee (an
    assignee of None then means nobody yet). Otherwise those are unchanged.
    """

    action: CaseAction
    to_state: CaseState
    actor: str
    ts: datetime
    note: str
    due_at: datetime | None
    unit_code: str | None = None
    grid_code: str | None = None
    department: str | None = None
    assignee: str | None = None
    satisfaction: int | None = None
    moves: bool = False


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Which cases a listing wants; ``units`` None means every unit (a city-level caller)."""

    units: Collection[str] | None = None
    states: Collection[CaseState] = ()
    service_codes: Collection[str] = ()
    source: CaseSource | None = None
    assignee: str | None = None
    reporter: str | None = None  # only cases this person (or system) filed
    overdue_at: datetime | None = None  # only cases whose deadline is before this
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before
    ids: Collection[int] = ()
    external_refs: Collection[str] = ()
    open_only: bool = False
    by_due: bool = False  # earliest deadline (most overdue) first, instead of newest first
    limit: int = 500
    offset: int = 0


class CaseRepository:
    """Store and read cases, their steps and photos."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- writing ----------------------------------------------------------------------------------
    def create(self, new: NewCase) -> CaseRecord:
        """Store a collected case and its first step; return it."""
        token = new.token or str(uuid.uuid4())
        values: dict[str, Any] = {
            "token": token,
            "source": new.source.value,
            "service_code": new.service_code,
            "description": new.description,
            "lon": new.lon,
            "lat": new.lat,
            "address": new.address,
            "grid_code": new.grid_code,
            "unit_code": new.unit_code,
            "department": new.department,
            "state": CaseState.COLLECTED.value,
            "state_since": new.created_at,
            "due_at": new.due_at,
            "assignee": None,
            "reporter": new.reporter,
            "contact": json.dumps(new.contact, ensure_ascii=False, sort_keys=True),
            "external_ref": new.external_ref,
            "media_url": new.media_url,
            "created_at": new.created_at,
            "updated_at": new.created_at,
            "reopen_count": 0,
            "version": 1,
        }
        with self._engine.begin() as conn:
            case_id = int(conn.execute(insert(_C).values(**values).returning(_C.c.id)).scalar_one())
            conn.execute(
                insert(_S).values(
                    case_id=case_id,
                    ts=new.created_at,
                    actor=new.reporter,
                    action="collect",
                    from_state="",
                    to_state=CaseState.COLLECTED.value,
                    note="",
                    unit_code=new.unit_code,
                    department=new.department,
                    assignee=None,
                    due_at=None,
                    on_time=None,
                )
            )
        return self.get(case_id)

    def apply(self, case: CaseRecord, step: StepWrite) -> CaseRecord:
        """Store a step on the case as read; StaleCase if it moved meanwhile."""
        on_time = None if case.due_at is None else step.ts <= case.due_at
        values: dict[str, Any] = {
            "state": step.to_state.value,
            "state_since": step.ts,
            "due_at": step.due_at,
            "updated_at": step.ts,
            "version": case.version + 1,
            "overdue_alerted": None,
        }
        if step.moves:
            values.update(
                unit_code=step.unit_code or case.unit_code,
                grid_code=step.grid_code,
                department=step.department or case.department,
                assignee=step.assignee,
            )
        if step.satisfaction is not None:
            values["satisfaction"] = step.satisfaction
        if step.action is CaseAction.REOPEN:
            values["reopen_count"] = case.reopen_count + 1
        if step.action is CaseAction.FEEDBACK and case.handled_at is None:
            values.update(handled_at=step.ts, handled_by=step.actor, handled_on_time=on_time)
        if step.to_state is CaseState.CLOSED:
            values["closed_at"] = step.ts
        after = replace(case, **{k: v for k, v in values.items() if k in _PLAIN}, state=step.to_state)
        with self._engine.begin() as conn:
            moved = conn.execute(
                update(_C).where(_C.c.id == case.id, _C.c.version == case.version).values(**values)
            ).rowcount
            if moved != 1:
                raise StaleCase(f"case {case.id} changed since it was read; read it again")
            conn.execute(
                insert(_S).values(
                    case_id=case.id,
                    ts=step.ts,
                    actor=step.actor,
                    action=step.action.value,
                    from_state=case.state.value,
                    to_state=step.to_state.value,
                    note=step.note,
                    unit_code=after.unit_code,
                    department=after.department,
                    assignee=after.assignee,
                    due_at=case.due_at,
                    on_time=on_time,
                )
            )
        return self.get(case.id)

    def mark_overdue_alerted(self, case_id: int, state: CaseState, version: int) -> bool:
        """Remember that the overdue alert of this state was raised (once per state entered)."""
        with self._engine.begin() as conn:
            done = conn.execute(
                update(_C)
                .where(_C.c.id == case_id, _C.c.version == version, _C.c.state == state.value)
                .values(overdue_alerted=state.value)
            ).rowcount
        return bool(done == 1)

    def add_photo(self, case_id: int, filename: str, mime: str, size: int, sha256: str, by: str, ts: datetime) -> int:
        """Attach a stored photo to a case."""
        with self._engine.begin() as conn:
            return int(
                conn.execute(
                    insert(_P)
                    .values(
                        case_id=case_id, filename=filename, mime=mime, size=size, sha256=sha256, uploaded_by=by, ts=ts
                    )
                    .returning(_P.c.id)
                ).scalar_one()
            )

    # -- reading ----------------------------------------------------------------------------------
    def get(self, case_id: int) -> CaseRecord:
        """One case; KeyError if there is none."""
        with self._engine.connect() as conn:
            row = conn.execute(select(_C).where(_C.c.id == case_id)).first()
        if row is None:
            raise KeyError(case_id)
        return _record(row)

    def by_token(self, token: str) -> CaseRecord:
        """The case created with an Open311 token; KeyError if none."""
        with self._engine.connect() as conn:
            row = conn.execute(select(_C).where(_C.c.token == token)).first()
        if row is None:
            raise KeyError(token)
        return _record(row)

    def find(self, f: CaseFilter) -> list[CaseRecord]:
        """Cases matching a filter, newest first (or earliest deadline first)."""
        order = (_C.c.due_at.asc(), _C.c.id.asc()) if f.by_due else (_C.c.created_at.desc(), _C.c.id.desc())
        stmt = _where(select(_C), f).order_by(*order)
        stmt = stmt.limit(max(0, f.limit)).offset(max(0, f.offset))
        with self._engine.connect() as conn:
            return [_record(r) for r in conn.execute(stmt)]

    def count(self, f: CaseFilter) -> int:
        """How many cases match a filter (ignoring limit and offset)."""
        stmt = _where(select(func.count()).select_from(_C), f)
        with self._engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def overdue(self, now: datetime, *, limit: int = 1000) -> list[CaseRecord]:
        """Open cases past their deadline whose overdue alert for the current state is not raised yet."""
        stmt = (
            select(_C)
            .where(
                _C.c.state.in_(_TIMED),
                _C.c.due_at < now,
                or_(_C.c.overdue_alerted.is_(None), _C.c.overdue_alerted != _C.c.state),
            )
            .order_by(_C.c.due_at)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [_record(r) for r in conn.execute(stmt)]

    def steps(self, case_ids: Sequence[int]) -> dict[int, list[StepRecord]]:
        """The steps of some cases, oldest first."""
        out: dict[int, list[StepRecord]] = {i: [] for i in case_ids}
        with self._engine.connect() as conn:
            for chunk in _chunks(list(case_ids)):
                for r in conn.execute(select(_S).where(_S.c.case_id.in_(chunk)).order_by(_S.c.ts, _S.c.id)):
                    out[r.case_id].append(StepRecord(**r._asdict()))
        return out

    def photos(self, case_id: int) -> list[PhotoRecord]:
        """The photos of one case, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(_P).where(_P.c.case_id == case_id).order_by(_P.c.id))
            return [PhotoRecord(**r._asdict()) for r in rows]


_PLAIN = frozenset(
    {"state_since", "due_at", "updated_at", "version", "overdue_alerted", "unit_code", "grid_code", "department"}
    | {"assignee", "satisfaction", "reopen_count", "handled_at", "handled_by", "handled_on_time", "closed_at"}
)


def _where(stmt: Select[Any], f: CaseFilter) -> Select[Any]:
    stmt = scoped(stmt, _C.c.unit_code, f.units)
    if f.states:
        stmt = stmt.where(_C.c.state.in_([s.value for s in f.states]))
    if f.open_only:
        stmt = stmt.where(_C.c.state.in_(_OPEN))
    if f.service_codes:
        stmt = stmt.where(_C.c.service_code.in_(list(f.service_codes)))
    if f.source is not None:
        stmt = stmt.where(_C.c.source == f.source.value)
    if f.assignee:
        stmt = stmt.where(_C.c.assignee == f.assignee)
    if f.reporter:
        stmt = stmt.where(_C.c.reporter == f.reporter)
    if f.overdue_at is not None:
        stmt = stmt.where(_C.c.due_at < f.overdue_at, _C.c.state.in_(_TIMED))
    if f.since is not None:
        stmt = stmt.where(_C.c.created_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(_C.c.created_at < f.until)
    if f.ids:
        stmt = stmt.where(_C.c.id.in_(list(f.ids)))
    if f.external_refs:
        stmt = stmt.where(_C.c.external_ref.in_(list(f.external_refs)))
    return stmt


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)] or [[]]


def _record(row: Row[Any]) -> CaseRecord:
    d = row._asdict()
    d["source"] = CaseSource(d["source"])
    d["state"] = CaseState(d["state"])
    d["contact"] = json.loads(d["contact"] or "{}")
    return CaseRecord(**d)
