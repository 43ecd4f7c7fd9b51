"""Initial schema: installation facts, the grid tree and the device registry.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "geo_unit",
        sa.Column("code", sa.String(24), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("parent_code", sa.String(24), sa.ForeignKey("geo_unit.code"), nullable=True),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("geometry_wkb", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_geo_unit_level", "geo_unit", ["level"])
    op.create_index("ix_geo_unit_parent_code", "geo_unit", ["parent_code"])
    op.create_table(
        "device",
        sa.Column("device_id", sa.String(64), primary_key=True),
        sa.Column("device_type", sa.String(32), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("grid_code", sa.String(24), sa.ForeignKey("geo_unit.code"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_device_device_type", "device", ["device_type"])
    op.create_index("ix_device_grid_code", "device", ["grid_code"])


def downgrade() -> None:
    op.drop_table("device")
    op.drop_table("geo_unit")
    op.drop_table("app_meta")
