"""Search keys on customers, their indexes, and a contains-index (SQLite FTS5 trigram / pg_trgm).

Revision ID: 0003_search
Revises: 0002_customers (0001 on its own branch; the integrator chains the features)
Create Date: 2026-11-22 00:16:25.681513

"""

import sqlalchemy as sa
from alembic import op

revision = "0003_search"
down_revision = "0002_customers"
branch_labels = None
depends_on = None

LIVE = sa.text("merged_into_id IS NULL")
INDEXES = {
    "ix_customer_search_name": ["business_id", "search_name", "id"],
    "ix_customer_search_name_rev": ["business_id", "search_name_rev", "id"],
    "ix_customer_search_phone": ["business_id", "search_phone"],
    "ix_customer_search_company": ["business_id", "search_company"],
    "ix_customer_placeholders": ["business_id", "is_dummy", "search_name", "id"],
    "ix_customer_sort_created": ["business_id", "created_at", "id"],
    "ix_customer_sort_updated": ["business_id", "updated_at", "id"],
    "ix_customer_sort_last_visit": ["business_id", "last_visit_at", "id"],
    "ix_customer_sort_bookings": ["business_id", "total_bookings", "id"],
    "ix_customer_sort_spent": ["business_id", "total_spent", "id"],
    "ix_customer_sort_points": ["business_id", "points_balance", "id"],
    "ix_customer_birth_month": ["business_id", "birth_month", "search_name", "id"],
}

# SQLite: an external-content FTS5 table over customer.search_text, kept in step by triggers.
# (Its rows are keyed by customer.rowid; after anything that rebuilds the customer table, run
# `INSERT INTO customer_fts(customer_fts) VALUES ('rebuild')`.)
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE customer_fts USING fts5("
    "search_text, content='customer', content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER customer_fts_ai AFTER INSERT ON customer BEGIN "
    "INSERT INTO customer_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "CREATE TRIGGER customer_fts_ad AFTER DELETE ON customer BEGIN "
    "INSERT INTO customer_fts(customer_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); END",
    "CREATE TRIGGER customer_fts_au AFTER UPDATE OF search_text ON customer BEGIN "
    "INSERT INTO customer_fts(customer_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); "
    "INSERT INTO customer_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
]


def upgrade():
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_name", sa.String(255), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("search_name_rev", sa.String(255), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("search_phone", sa.String(20), nullable=True))
        batch_op.add_column(sa.Column("search_company", sa.String(255), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("birth_month", sa.SmallInteger(), nullable=True))
    backfill()
    month = (
        "EXTRACT(MONTH FROM date_of_birth)"
        if dialect == "postgresql"
        else "CAST(strftime('%m', date_of_birth) AS INTEGER)"
    )
    op.execute(f"UPDATE customer SET birth_month = {month} WHERE date_of_birth IS NOT NULL")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            if dialect == "postgresql" and name == "ix_customer_sort_last_visit":
                continue  # below, with the NULLs placed as SQLite places them
            batch_op.create_index(name, columns, unique=False, sqlite_where=LIVE, postgresql_where=LIVE)
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.create_index(
            "ix_booking_upcoming", ["business_id", "status", "starts_at", "customer_id"], unique=False
        )
    if dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_customer_sort_last_visit ON customer "
            "(business_id, last_visit_at DESC NULLS LAST, id DESC) WHERE merged_into_id IS NULL"
        )
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_customer_search_trgm ON customer USING gin (search_text gin_trgm_ops) "
            "WHERE merged_into_id IS NULL"
        )
    elif dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
        op.execute("INSERT INTO customer_fts(customer_fts) VALUES ('rebuild')")


def backfill():
    """Fill the keys of customers that exist already (the same function the app uses)."""
    from webapp.models.search_keys import search_keys

    bind = op.get_bind()
    customer = sa.table(
        "customer",
        sa.column("id", sa.Uuid()),
        *(sa.column(c) for c in ("first_name", "last_name", "dummy_label", "email_normalized", "phone")),
        *(sa.column(c) for c in ("company", "search_name", "search_name_rev", "search_phone")),
        *(sa.column(c) for c in ("search_company", "search_text")),
    )
    rows = bind.execute(
        sa.select(
            customer.c.id,
            customer.c.first_name,
            customer.c.last_name,
            customer.c.dummy_label,
            customer.c.email_normalized,
            customer.c.phone,
            customer.c.company,
        )
    ).all()
    for row in rows:
        keys = search_keys(
            row.first_name, row.last_name, row.dummy_label, row.email_normalized, row.phone, row.company
        )
        bind.execute(customer.update().where(customer.c.id == row.id).values(**keys))


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_customer_search_trgm")
    elif dialect == "sqlite":
        for trigger in ("customer_fts_ai", "customer_fts_ad", "customer_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS customer_fts")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_upcoming")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
        columns = (
            "birth_month",
            "search_text",
            "search_company",
            "search_phone",
            "search_name_rev",
            "search_name",
        )
        for column in columns:
            batch_op.drop_column(column)
