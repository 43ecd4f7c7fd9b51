"""Alerts: occurrences, the events that fed them, and their lifecycle steps.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("rule_key", sa.String(64), nullable=False),
        sa.Column("dedup_key", sa.String(256), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("unit_code", sa.String(24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("cleared_at", TS, nullable=True),
        sa.Column("acked_by", sa.String(64), nullable=True),
        sa.Column("acked_at", TS, nullable=True),
        sa.Column("dispatched_to", sa.String(128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_alert_open", "alert", ["state", "severity"])
    op.create_index("ix_alert_dedup", "alert", ["dedup_key", "cleared_at"])
    op.create_index("ix_alert_unit", "alert", ["unit_code", "state"])
    op.create_index("ix_alert_first_seen", "alert", ["first_seen"])
    op.create_table(
        "alert_event",
        sa.Column(
            "event_id", sa.String(100), primary_key=True
        ),  # "<event_id>:<rule key>": one event may fire two rules
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alert.id"), nullable=False),
        sa.Column("ts", TS, nullable=False),
    )
    op.create_index("ix_alert_event_alert_id", "alert_event", ["alert_id"])
    op.create_table(
        "alert_step",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alert.id"), nullable=False),
        sa.Column("ts", TS, nullable=False),
        sa.Column("actor", sa.String(96), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
    )
    op.create_index("ix_alert_step_alert_id", "alert_step", ["alert_id"])


def downgrade() -> None:
    op.drop_table("alert_step")
    op.drop_table("alert_event")
    op.drop_table("alert")
