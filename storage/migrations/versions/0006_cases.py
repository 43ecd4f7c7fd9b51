"""Cases: case files and their steps, photos, verification tasks, patrol points and check-ins, API clients.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "case_file",
        _id(),
        sa.Column("token", sa.String(36), nullable=False, unique=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("service_code", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("grid_code", sa.String(24), nullable=True),
        sa.Column("unit_code", sa.String(24), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_since", TS, nullable=False),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("assignee", sa.String(64), nullable=True),
        sa.Column("reporter", sa.String(96), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("external_ref", sa.String(64), nullable=True),
        sa.Column("media_url", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("handled_at", TS, nullable=True),
        sa.Column("handled_by", sa.String(64), nullable=True),
        sa.Column("handled_on_time", sa.Boolean(), nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("overdue_alerted", sa.String(16), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_case_unit_state", "case_file", ["unit_code", "state"])
    op.create_index("ix_case_due", "case_file", ["state", "due_at"])
    op.create_index("ix_case_created", "case_file", ["created_at"])
    op.create_index("ix_case_assignee", "case_file", ["assignee"])
    op.create_index("ix_case_external", "case_file", ["source", "external_ref"])
    op.create_table(
        "case_step",
        _id(),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case_file.id"), nullable=False),
        sa.Column("ts", TS, nullable=False),
        sa.Column("actor", sa.String(96), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("unit_code", sa.String(24), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("assignee", sa.String(64), nullable=True),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
    )
    op.create_index("ix_case_step_case_id", "case_step", ["case_id"])
    op.create_index("ix_case_step_ts", "case_step", ["ts"])
    op.create_table(
        "case_photo",
        _id(),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case_file.id"), nullable=False),
        sa.Column("filename", sa.String(128), nullable=False),
        sa.Column("mime", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.String(96), nullable=False),
        sa.Column("ts", TS, nullable=False),
    )
    op.create_index("ix_case_photo_case_id", "case_photo", ["case_id"])
    op.create_table(
        "verification_batch",
        _id(),
        sa.Column("external_ref", sa.String(64), nullable=False, unique=True),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("deadline", TS, nullable=False),
        sa.Column("created_by", sa.String(96), nullable=False),
    )
    op.create_table(
        "verification_task",
        _id(),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("verification_batch.id"), nullable=False),
        sa.Column("grid_code", sa.String(24), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("result", sa.String(16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("done_by", sa.String(64), nullable=True),
        sa.Column("done_at", TS, nullable=True),
    )
    op.create_index("ix_verification_task_batch_id", "verification_task", ["batch_id"])
    op.create_index("ix_verification_task_grid_code", "verification_task", ["grid_code"])
    op.create_table(
        "patrol_point",
        _id(),
        sa.Column("grid_code", sa.String(24), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_patrol_point_grid_code", "patrol_point", ["grid_code"])
    op.create_table(
        "patrol_checkin",
        _id(),
        sa.Column("point_id", sa.Integer(), sa.ForeignKey("patrol_point.id"), nullable=False),
        sa.Column("grid_code", sa.String(24), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("ts", TS, nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
    )
    op.create_index("ix_patrol_checkin_point_id", "patrol_checkin", ["point_id"])
    op.create_index("ix_patrol_checkin_username", "patrol_checkin", ["username"])
    op.create_index("ix_patrol_checkin_ts", "patrol_checkin", ["ts"])
    op.create_table(
        "api_client",
        _id(),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("unit_code", sa.String(24), nullable=False),
        sa.Column("scopes", sa.String(128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
    )


def downgrade() -> None:
    for table in (
        "api_client",
        "patrol_checkin",
        "patrol_point",
        "verification_task",
        "verification_batch",
        "case_photo",
        "case_step",
        "case_file",
    ):
        op.drop_table(table)
