"""Alert tables: one row per occurrence, the events that fed it, and every lifecycle step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy import text as sql_text  # the model has a column called text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

__all__ = ["OPEN_WHERE", "AlertEventRow", "AlertRow", "AlertStepRow"]

# An alert is open (repeats group into it) until it clears or is closed; at most one per dedup key.
OPEN_WHERE = "cleared_at IS NULL AND state != 'closed'"


class AlertRow(Base):
    """One occurrence of a rule for one source, from first firing to closing."""

    __tablename__ = "alert"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_key: Mapped[str] = mapped_column(String(64))
    dedup_key: Mapped[str] = mapped_column(String(256))
    severity: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    count: Mapped[int] = mapped_column(Integer)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    acked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    dispatched_to: Mapped[str | None] = mapped_column(String(128), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    level_code: Mapped[str] = mapped_column(String(24))  # the unit whose screens must act now (starts at unit_code)
    escalation_step: Mapped[int] = mapped_column(Integer, server_default="0")
    escalates_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        Index("ix_alert_open", "state", "severity"),
        Index(
            "uq_alert_open_dedup",
            "dedup_key",
            unique=True,
            sqlite_where=sql_text(OPEN_WHERE),
            postgresql_where=sql_text(OPEN_WHERE),
        ),
        Index("ix_alert_unit", "unit_code", "state"),
        Index("ix_alert_first_seen", "first_seen"),
        Index("ix_alert_escalation", "state", "escalates_at"),
    )


class AlertEventRow(Base):
    """An event counted into an alert: the event_id makes a redelivered event count once."""

    __tablename__ = "alert_event"
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)  # "<event_id>:<rule key>"
    alert_id: Mapped[int] = mapped_column(Integer, ForeignKey("alert.id"))  # not indexed: see migration 0005
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AlertStepRow(Base):
    """One lifecycle step: who moved the alert from what to what, when, and why."""

    __tablename__ = "alert_step"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(Integer, ForeignKey("alert.id"), index=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(96))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
