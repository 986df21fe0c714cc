"""API keys, the idempotency records of API writes, and an index for the API's booking-date filter.

A key is stored as its short visible prefix (unique: authenticating is one index lookup) and an
HMAC-SHA256 digest of its secret. An idempotency record holds the first answer to a POST sent with an
`Idempotency-Key`, unique per business, actor and key.

Revision ID: 0011_api_keys
Revises: 0010_sign_in_failures
Create Date: 2026-12-02 18:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0011_api_keys"
down_revision = "0010_sign_in_failures"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("access", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["business_id"], ["business.id"], name=op.f("fk_api_key_business_id_business")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff_user.id"], name=op.f("fk_api_key_created_by_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
    )
    op.create_index("ix_api_key_prefix", "api_key", ["prefix"], unique=True)
    op.create_index("ix_api_key_business_created", "api_key", ["business_id", "created_at"])
    op.create_table(
        "api_idempotency",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=True
        ),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"], ["business.id"], name=op.f("fk_api_idempotency_business_id_business")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_idempotency")),
    )
    op.create_index("ix_api_idempotency_key", "api_idempotency", ["business_id", "actor", "key"], unique=True)
    op.create_index("ix_api_idempotency_created", "api_idempotency", ["created_at"])
    # The list's booking_date filter: customers with a booking starting in a range.
    op.create_index(
        "ix_booking_business_start_customer", "booking", ["business_id", "starts_at", "customer_id"]
    )


def downgrade():
    op.drop_index("ix_booking_business_start_customer", table_name="booking")
    op.drop_index("ix_api_idempotency_created", table_name="api_idempotency")
    op.drop_index("ix_api_idempotency_key", table_name="api_idempotency")
    op.drop_table("api_idempotency")
    op.drop_index("ix_api_key_business_created", table_name="api_key")
    op.drop_index("ix_api_key_prefix", table_name="api_key")
    op.drop_table("api_key")
