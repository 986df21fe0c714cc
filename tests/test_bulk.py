"""The bulk loader (webapp/bulk.py) takes rows it did not generate: search keys, tag lists, buckets."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from webapp import bulk
from webapp.extensions import db
from webapp.models import Customer, Tag, customer_rank_bucket
from webapp.search import search_customers, tag_lists


def imported_rows(business, tag, n: int) -> tuple[list[dict], list[dict]]:
    """Customers as an import would bring them, and their tag links."""
    customers, links = [], []
    now = datetime.now(UTC)
    for i in range(n):
        row = {
            "id": uuid.uuid4(),
            "business_id": business.id,
            "first_name": "Zoë" if i % 2 else "Marta",
            "last_name": f"Import{i}",
            "email": f"import{i}@example.com",
            "email_normalized": f"import{i}@example.com",
            "phone": f"+4479111{i:05d}",
            "company": "",
            "is_dummy": False,
            "dummy_label": "",
            "created_at": now,
            "updated_at": now,
        }
        bulk.add_search_keys(row)
        if i % 3 == 0:
            links.append({"business_id": business.id, "customer_id": row["id"], "tag_id": tag.id})
        customers.append(row)
    return customers, links


def load(business, monkeypatch, *, rebuild: bool, n: int = 12) -> list[dict]:
    if rebuild:
        monkeypatch.setattr(bulk, "BULK_REBUILD_FROM", 1)  # drop and rebuild indexes, triggers off
    tag = db.session.scalar(select(Tag).where(Tag.business_id == business.id))
    customers, links = imported_rows(business, tag, n)
    dialect = db.session.connection().dialect.name
    chunk = bulk.driver_chunk(customers, [], links, [], dialect)
    assert bulk.load_chunks([chunk], business.id, n, tag_lists_given=False) == 0
    return customers


def test_imported_rows_are_searchable_and_tagged(business, make_tag, monkeypatch):
    make_tag("VIP")
    db.session.commit()
    load(business, monkeypatch, rebuild=True)
    found = search_customers(business, "zoe")
    assert found.count == 6 and {c.first_name for c in found.customers} == {"Zoë"}
    assert search_customers(business, "07911 100003").customers[0].last_name == "Import3"
    assert len(search_customers(business).tags) == 4  # customers 0, 3, 6 and 9 carry the tag
    assert tag_lists.rebuild(business.id) == 0, "the tag lists were rebuilt after the load"
    buckets = db.session.scalar(
        select(func.sum(customer_rank_bucket.c.n)).where(
            customer_rank_bucket.c.business_id == business.id, customer_rank_bucket.c.sort == "name"
        )
    )
    assert buckets == db.session.scalar(select(func.count()).select_from(Customer)) == 12


def test_small_loads_keep_the_triggers(business, make_tag, monkeypatch):
    make_tag("VIP")
    db.session.commit()
    load(business, monkeypatch, rebuild=False, n=4)
    assert tag_lists.rebuild(business.id) == 0
    listed = search_customers(business)
    assert listed.count == 4 and len(listed.tags) == 2  # customers 0 and 3 carry the tag
