"""dataset lifecycle: yanked versions, deprecated datasets, a pinned latest version

Revision ID: 0005_dataset_lifecycle
Revises: 0004
Create Date: 2026-12-01 23:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_dataset_lifecycle"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deprecated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deprecation_message", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("pinned_latest", sa.String(length=64), nullable=True))
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("yanked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("yank_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        batch_op.drop_column("yank_reason")
        batch_op.drop_column("yanked_at")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_column("pinned_latest")
        batch_op.drop_column("deprecation_message")
        batch_op.drop_column("deprecated_at")
