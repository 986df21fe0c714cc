"""Live-customer indexes hold every column their scans read (merged_into_id, id), and email has one.

SQLite evaluates a partial index's condition (merged_into_id IS NULL) from the table row unless the
index holds the column, so each search tier read 101 scattered table rows; PostgreSQL needs `id` in
the index for an index-only scan of the phone, company and email tiers.

Revision ID: 0007_covering_live_indexes
Revises: 0006_rank_buckets
Create Date: 2026-11-22 04:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0007_covering_live_indexes"
down_revision = "0006_rank_buckets"
branch_labels = None
depends_on = None

LIVE = sa.text("merged_into_id IS NULL")
# Each live-customer index's columns before merged_into_id, which this migration appends.
INDEXES = {
    "ix_customer_search_name": ["business_id", "search_name", "id"],
    "ix_customer_search_name_rev": ["business_id", "search_name_rev", "id"],
    "ix_customer_search_phone": ["business_id", "search_phone", "id"],
    "ix_customer_search_company": ["business_id", "search_company", "id"],
    "ix_customer_search_email": ["business_id", "email_normalized", "id"],
    "ix_customer_placeholders": ["business_id", "is_dummy", "search_name", "id"],
    "ix_customer_sort_created": ["business_id", "created_at", "id"],
    "ix_customer_sort_updated": ["business_id", "updated_at", "id"],
    "ix_customer_sort_last_visit": ["business_id", "last_visit_at", "id"],
    "ix_customer_sort_bookings": ["business_id", "total_bookings", "id"],
    "ix_customer_sort_spent": ["business_id", "total_spent", "id"],
    "ix_customer_sort_points": ["business_id", "points_balance", "id"],
    "ix_customer_birth_month": ["business_id", "birth_month", "search_name", "id"],
}
NEW = {"ix_customer_search_email"}  # did not exist before
GAINED_ID = {"ix_customer_search_phone", "ix_customer_search_company"}  # had no id before
# PostgreSQL keeps last visits in the order SQLite gives them (NULLs first ascending), as 0003 made it.
PG_LAST_VISIT = "(business_id, last_visit_at DESC NULLS LAST, id DESC{extra})"


def before(name: str) -> list[str] | None:
    """The columns 0003 gave the index (None: it did not exist)."""
    if name in NEW:
        return None
    return [c for c in INDEXES[name] if c != "id"] if name in GAINED_ID else INDEXES[name]


def after(name: str) -> list[str]:
    return INDEXES[name] + ["merged_into_id"]


def create(name: str, columns: list[str]) -> None:
    if op.get_bind().dialect.name == "postgresql" and name == "ix_customer_sort_last_visit":
        shape = PG_LAST_VISIT.format(extra=", merged_into_id" if "merged_into_id" in columns else "")
        op.execute(f"CREATE INDEX {name} ON customer {shape} WHERE merged_into_id IS NULL")
    else:
        op.create_index(name, "customer", columns, unique=False, sqlite_where=LIVE, postgresql_where=LIVE)


def remake(covering: bool) -> None:
    """Replace each index's old shape by the new one (upgrade) or the new by the old (downgrade)."""
    for name in INDEXES:
        old, new = (before(name), after(name)) if covering else (after(name), before(name))
        if old is not None:
            op.drop_index(name, table_name="customer")
        if new is not None:
            create(name, new)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    remake(covering=True)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ANALYZE customer")  # SQLite's planner only weighs indexes it has statistics for


def downgrade():
    remake(covering=False)
