"""Live-customer counts per name prefix and creation day, kept by triggers, for deep list pages.

Revision ID: 0006_rank_buckets
Revises: 0005_merge
Create Date: 2026-11-22 04:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0006_rank_buckets"
down_revision = "0005_merge"
branch_labels = None
depends_on = None

# The bucket of a customer row per sort, as each engine writes it: SQLite stores created_at as UTC
# text "YYYY-MM-DD HH:MM:SS.ffffff"; PostgreSQL as timestamptz. (The same expressions as
# webapp/search/deep_pages.py BUCKETS; a test checks that a rebuild agrees with these triggers.)
SQLITE_NAME = "substr({row}.search_name, 1, 3)"
SQLITE_DAY = "substr({row}.created_at, 1, 10)"
PG_NAME = "left({row}.search_name, 3)"
PG_DAY = "to_char({row}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def sqlite_triggers() -> list[str]:
    """Insert, delete and update triggers: +1 to the new row's buckets, -1 from the old row's."""
    name, day = SQLITE_NAME.format, SQLITE_DAY.format
    add = (
        "INSERT INTO customer_rank_bucket (business_id, sort, bucket, n) "
        "SELECT new.business_id, 'name', {n}, 1 WHERE new.merged_into_id IS NULL "
        "UNION ALL SELECT new.business_id, 'created', {d}, 1 WHERE new.merged_into_id IS NULL "
        "ON CONFLICT (business_id, sort, bucket) DO UPDATE SET n = n + 1;"
    ).format(n=name(row="new"), d=day(row="new"))
    remove = (
        "UPDATE customer_rank_bucket SET n = n - 1 WHERE old.merged_into_id IS NULL "
        "AND business_id = old.business_id AND sort = 'name' AND bucket = {n}; "
        "UPDATE customer_rank_bucket SET n = n - 1 WHERE old.merged_into_id IS NULL "
        "AND business_id = old.business_id AND sort = 'created' AND bucket = {d};"
    ).format(n=name(row="old"), d=day(row="old"))
    moved = (
        "(old.merged_into_id IS NULL) <> (new.merged_into_id IS NULL) OR (new.merged_into_id IS NULL AND "
        f"(old.business_id IS NOT new.business_id OR {name(row='old')} IS NOT {name(row='new')} "
        f"OR {day(row='old')} IS NOT {day(row='new')}))"
    )
    return [
        f"CREATE TRIGGER customer_rank_bucket_ai AFTER INSERT ON customer BEGIN {add} END",
        f"CREATE TRIGGER customer_rank_bucket_ad AFTER DELETE ON customer BEGIN {remove} END",
        "CREATE TRIGGER customer_rank_bucket_au AFTER UPDATE OF business_id, merged_into_id, search_name, "
        f"created_at ON customer WHEN {moved} BEGIN {remove} {add} END",
    ]


def postgresql_triggers() -> list[str]:
    """One plpgsql function: -1 from the old row's buckets, +1 to the new row's; an update only calls
    it when a bucket or liveness can have changed."""
    name, day = PG_NAME.format, PG_DAY.format
    function = f"""
CREATE FUNCTION customer_rank_bucket_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.merged_into_id IS NULL THEN
    UPDATE customer_rank_bucket SET n = n - 1
    WHERE business_id = OLD.business_id
      AND (sort, bucket) IN (('name', {name(row="OLD")}), ('created', {day(row="OLD")}));
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.merged_into_id IS NULL THEN
    INSERT INTO customer_rank_bucket AS b (business_id, sort, bucket, n) VALUES
      (NEW.business_id, 'name', {name(row="NEW")}, 1),
      (NEW.business_id, 'created', {day(row="NEW")}, 1)
    ON CONFLICT (business_id, sort, bucket) DO UPDATE SET n = b.n + 1;
  END IF;
  RETURN NULL;
END $$"""
    moved = (
        "(OLD.merged_into_id IS NULL) <> (NEW.merged_into_id IS NULL) OR (NEW.merged_into_id IS NULL AND "
        f"(OLD.business_id <> NEW.business_id OR {name(row='OLD')} <> {name(row='NEW')} "
        "OR OLD.created_at <> NEW.created_at))"
    )
    return [
        function,
        "CREATE TRIGGER customer_rank_bucket_iud AFTER INSERT OR DELETE ON customer "
        "FOR EACH ROW EXECUTE FUNCTION customer_rank_bucket_count()",
        "CREATE TRIGGER customer_rank_bucket_u AFTER UPDATE OF business_id, merged_into_id, search_name, "
        f"created_at ON customer FOR EACH ROW WHEN ({moved}) EXECUTE FUNCTION customer_rank_bucket_count()",
    ]


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        "customer_rank_bucket",
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("sort", sa.String(length=10), nullable=False),
        sa.Column("bucket", sa.String(length=10), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("business_id", "sort", "bucket", name=op.f("pk_customer_rank_bucket")),
    )
    # Triggers first: on PostgreSQL creating them locks out writers until this commits, so the
    # backfill below counts a book that nobody changes before the triggers take over.
    for statement in sqlite_triggers() if dialect == "sqlite" else postgresql_triggers():
        op.execute(statement)
    name, day = (SQLITE_NAME, SQLITE_DAY) if dialect == "sqlite" else (PG_NAME, PG_DAY)
    for sort, bucket in (("name", name), ("created", day)):
        bucket = bucket.format(row="customer")
        op.execute(
            "INSERT INTO customer_rank_bucket (business_id, sort, bucket, n) "
            f"SELECT business_id, '{sort}', {bucket}, count(*) FROM customer "
            f"WHERE merged_into_id IS NULL GROUP BY business_id, {bucket}"
        )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("customer_rank_bucket_ai", "customer_rank_bucket_ad", "customer_rank_bucket_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    else:
        for trigger in ("customer_rank_bucket_iud", "customer_rank_bucket_u"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON customer")
        op.execute("DROP FUNCTION IF EXISTS customer_rank_bucket_count()")
    op.drop_table("customer_rank_bucket")
