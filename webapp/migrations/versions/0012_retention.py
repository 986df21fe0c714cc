"""The retention setting: anonymize customers with no visit and no booking for N years (off when null).

Revision ID: 0012_retention
Revises: 0011_api_keys
Create Date: 2026-12-03 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0012_retention"
down_revision = "0011_api_keys"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("business") as batch:
        batch.add_column(sa.Column("retention_years", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("business") as batch:
        batch.drop_column("retention_years")
