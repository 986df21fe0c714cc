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


# Plain ALTER TABLE on both engines (SQLite adds and drops a column in place): a batch copy of
# `business` would have to drop the table every other table points at.
def upgrade():
    op.add_column("business", sa.Column("retention_years", sa.Integer(), nullable=True))


def downgrade():
    op.drop_column("business", "retention_years")
