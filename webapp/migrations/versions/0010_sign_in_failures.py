"""Failed sign-ins counted in the database, so the limits hold across workers and hosts.

Each row is one failed (or not yet checked) sign-in against one key: an account, an address or a
device cookie's nonce (see webapp/auth/throttle.py). Rows older than the longest window are deleted.

Revision ID: 0010_sign_in_failures
Revises: 0009_customer_tag_list
Create Date: 2026-12-02 17:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0010_sign_in_failures"
down_revision = "0009_customer_tag_list"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_in_failure",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("attempt", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sign_in_failure_key_created", "sign_in_failure", ["key", "created_at"])
    op.create_index("ix_sign_in_failure_created", "sign_in_failure", ["created_at"])


def downgrade():
    op.drop_index("ix_sign_in_failure_created", table_name="sign_in_failure")
    op.drop_index("ix_sign_in_failure_key_created", table_name="sign_in_failure")
    op.drop_table("sign_in_failure")
