"""Live-customer counts per list bucket, kept exact by triggers, so a deep list page skips whole buckets."""

from sqlalchemy import Column, Integer, String, Table

from webapp.extensions import db

# One row per business, sort ("name", "created") and bucket: the first three characters of
# search_name, or the UTC day of created_at ("YYYY-MM-DD"). Written only by the triggers of
# migration 0006_rank_buckets and by `webapp.search.deep_pages.rebuild`.
customer_rank_bucket = Table(
    "customer_rank_bucket",
    db.metadata,
    Column("business_id", Integer, primary_key=True),
    Column("sort", String(10), primary_key=True),
    Column("bucket", String(10), primary_key=True),
    Column("n", Integer, nullable=False),
)
