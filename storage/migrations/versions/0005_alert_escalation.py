"""Alert escalation (level, step, deadline), one open alert per dedup key enforced by the database.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
OPEN_WHERE = "cleared_at IS NULL AND state != 'closed'"


def upgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.add_column(sa.Column("level_code", sa.String(24), nullable=True))
        batch.add_column(sa.Column("escalation_step", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("escalates_at", TS, nullable=True))
    # Alerts stored before escalation existed sit at their own unit and are not armed.
    op.execute("UPDATE alert SET level_code = unit_code")
    with op.batch_alter_table("alert") as batch:
        batch.alter_column("level_code", existing_type=sa.String(24), nullable=False)
    op.drop_index("ix_alert_dedup", table_name="alert")
    # Replaces ix_alert_dedup: the open-alert lookup by dedup key, and the guarantee behind the upsert.
    op.create_index(
        "uq_alert_open_dedup",
        "alert",
        ["dedup_key"],
        unique=True,
        sqlite_where=sa.text(OPEN_WHERE),
        postgresql_where=sa.text(OPEN_WHERE),
    )
    op.create_index("ix_alert_escalation", "alert", ["state", "escalates_at"])
    # alert_event is looked up by event_id only (its primary key). The index on alert_id cost a
    # random page write for every event counted, and no query used it.
    op.drop_index("ix_alert_event_alert_id", table_name="alert_event")


def downgrade() -> None:
    op.create_index("ix_alert_event_alert_id", "alert_event", ["alert_id"])
    op.drop_index("ix_alert_escalation", table_name="alert")
    op.drop_index("uq_alert_open_dedup", table_name="alert")
    op.create_index("ix_alert_dedup", "alert", ["dedup_key", "cleared_at"])
    with op.batch_alter_table("alert") as batch:
        batch.drop_column("escalates_at")
        batch.drop_column("escalation_step")
        batch.drop_column("level_code")
