"""Device credentials: each device's own HMAC secret, its version, and when it was revoked.

Devices registered before this revision get no secret (NULL, version 0): nobody ever saw a
secret generated here, so it could not be used. `python app.py devices rotate ID` issues one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("device", sa.Column("secret", sa.String(128), nullable=True))
    op.add_column("device", sa.Column("secret_version", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("device", sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("device") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("secret_version")
        batch.drop_column("secret")
