"""Case tables: the case file, every workflow step, photos, verification tasks, patrols, API clients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.types import UtcDateTime

__all__ = [
    "ApiClientRow",
    "CaseFileRow",
    "CasePhotoRow",
    "CaseStepRow",
    "PatrolCheckinRow",
    "PatrolPointRow",
    "VerificationBatchRow",
    "VerificationTaskRow",
]

TS = UtcDateTime()


class CaseFileRow(Base):
    """One case from collection to evaluation; ``version`` moves with every step (optimistic locking)."""

    __tablename__ = "case_file"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(String(36), unique=True)  # Open311 token, given before an id is known
    source: Mapped[str] = mapped_column(String(16))
    service_code: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    address: Mapped[str] = mapped_column(Text, default="")
    grid_code: Mapped[str | None] = mapped_column(String(24), nullable=True)  # the grid of the location
    unit_code: Mapped[str] = mapped_column(String(24))  # who is responsible: the grid, or a higher unit
    department: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    state_since: Mapped[datetime] = mapped_column(TS)
    due_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reporter: Mapped[str] = mapped_column(String(96))
    contact: Mapped[str] = mapped_column(Text, default="{}")  # personal data (JSON): masked unless unmasked
    external_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    media_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    handled_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)  # first feedback
    handled_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    handled_on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    overdue_alerted: Mapped[str | None] = mapped_column(String(16), nullable=True)  # the state alerted as overdue
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        Index("ix_case_unit_state", "unit_code", "state"),
        Index("ix_case_due", "state", "due_at"),
        Index("ix_case_created", "created_at"),
        Index("ix_case_assignee", "assignee"),
        Index("ix_case_external", "source", "external_ref"),
    )


class CaseStepRow(Base):
    """One workflow step: who moved the case from what to what, when, where to, and whether in time."""

    __tablename__ = "case_step"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(Integer, ForeignKey("case_file.id"), index=True)
    ts: Mapped[datetime] = mapped_column(TS, index=True)
    actor: Mapped[str] = mapped_column(String(96))
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    unit_code: Mapped[str] = mapped_column(String(24))
    department: Mapped[str] = mapped_column(String(32))
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)  # the limit of the state it left
    on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class CasePhotoRow(Base):
    """A photo attached to a case, stored on disk under its content hash."""

    __tablename__ = "case_photo"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(Integer, ForeignKey("case_file.id"), index=True)
    filename: Mapped[str] = mapped_column(String(128))
    mime: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(96))
    ts: Mapped[datetime] = mapped_column(TS)


class VerificationBatchRow(Base):
    """A batch of person-level checks pushed down by the city's data platform, with one deadline."""

    __tablename__ = "verification_batch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    external_ref: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(TS)
    deadline: Mapped[datetime] = mapped_column(TS)
    created_by: Mapped[str] = mapped_column(String(96))


class VerificationTaskRow(Base):
    """One person to check in one grid; ``subject`` is personal data."""

    __tablename__ = "verification_task"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(Integer, ForeignKey("verification_batch.id"), index=True)
    grid_code: Mapped[str] = mapped_column(String(24), index=True)
    subject: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done
    result: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    done_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class PatrolPointRow(Base):
    """A place in a grid its worker must check in at (报点)."""

    __tablename__ = "patrol_point"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    grid_code: Mapped[str] = mapped_column(String(24), index=True)
    name: Mapped[str] = mapped_column(String(128))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PatrolCheckinRow(Base):
    """A grid worker's check-in at a patrol point (打卡), with where the phone was."""

    __tablename__ = "patrol_checkin"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    point_id: Mapped[int] = mapped_column(Integer, ForeignKey("patrol_point.id"), index=True)
    grid_code: Mapped[str] = mapped_column(String(24))
    username: Mapped[str] = mapped_column(String(64), index=True)
    ts: Mapped[datetime] = mapped_column(TS, index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    distance_m: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")


class ApiClientRow(Base):
    """An external system (the 12345 hotline, the data platform): one system, one key, one unit."""

    __tablename__ = "api_client"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of a 256-bit random key
    unit_code: Mapped[str] = mapped_column(String(24))
    scopes: Mapped[str] = mapped_column(String(128))  # space-separated: open311 verification
    created_at: Mapped[datetime] = mapped_column(TS)
    revoked_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
