"""Reading duplicate candidates: one page of pairs, one customer's pairs, finding the other of a merge."""

from sqlalchemy import and_, case, func, or_, select

from webapp.edge import page_of
from webapp.extensions import db
from webapp.merge.candidates import REASON_LABELS
from webapp.models import Customer, DuplicateCandidate
from webapp.models.customer import LEAN
from webapp.models.money import CustomerCard, LedgerEntry, PointsTransaction, Sale, SaleReversal


def list_candidates(business_id: int, page: int = 1, per_page: int = 25, reason: str = ""):
    """One page of candidate pairs, best first: [(candidate, customer_a, customer_b)] and has_next.

    Two steps on purpose: the page of pairs comes from the index alone, then its customers by id,
    so no planner (even one with stale statistics after a bulk load) joins every pair first."""
    query = (
        select(DuplicateCandidate)
        .where(DuplicateCandidate.business_id == business_id)
        .order_by(
            DuplicateCandidate.score.desc(),
            DuplicateCandidate.customer_a_id.desc(),
            DuplicateCandidate.customer_b_id.desc(),
        )
    )
    if reason in REASON_LABELS:
        query = query.where(_has_reason(reason))
    found = page_of(query, page, per_page)
    pairs, has_next = found.items, found.has_next
    ids = {c.customer_a_id for c in pairs} | {c.customer_b_id for c in pairs}
    people = (
        {
            c.id: c
            for c in db.session.scalars(select(Customer).where(Customer.id.in_(list(ids))).options(*LEAN))
        }
        if ids
        else {}
    )
    # Merging and anonymizing remove a customer's pairs; this only guards against a stale row.
    usable = lambda c: c is not None and c.merged_into_id is None and c.anonymized_at is None  # noqa: E731
    rows = [
        (cand, people.get(cand.customer_a_id), people.get(cand.customer_b_id))
        for cand in pairs
        if usable(people.get(cand.customer_a_id)) and usable(people.get(cand.customer_b_id))
    ]
    return rows, has_next


def _has_reason(reason: str):
    """SQL: the comma-separated reasons (with an optional ":typos" suffix) include `reason`."""
    col = DuplicateCandidate.reasons
    return or_(
        col == reason,
        col.like(f"{reason},%"),
        col.like(f"%,{reason}"),
        col.like(f"%,{reason},%"),
        col.like(f"{reason}:%"),
        col.like(f"%,{reason}:%"),
    )


def candidates_of(customer: Customer) -> list[tuple[DuplicateCandidate, Customer]]:
    """The stored candidate pairs of one customer: (candidate, the other customer), best first."""
    other = Customer  # compared with this customer's id as a value, so no alias is needed
    rows = db.session.execute(
        select(DuplicateCandidate, other)
        .join(
            other,
            or_(
                and_(
                    DuplicateCandidate.customer_a_id == customer.id,
                    other.id == DuplicateCandidate.customer_b_id,
                ),
                and_(
                    DuplicateCandidate.customer_b_id == customer.id,
                    other.id == DuplicateCandidate.customer_a_id,
                ),
            ),
        )
        .where(DuplicateCandidate.business_id == customer.business_id, other.merged_into_id.is_(None))
        .order_by(DuplicateCandidate.score.desc())
        .limit(20)
        .options(*LEAN)
    ).all()
    return [tuple(r) for r in rows]


def find_customers(business, q: str, exclude_id=None, limit: int = 20) -> list[Customer]:
    """Live customers matching what was typed, best first: the customer search's own (indexed) ranking."""
    from webapp.search import search_customers
    from webapp.search.criteria import clean_query

    q = clean_query(q)
    if not q:
        return []
    found = search_customers(business, q, limit=limit + 1, with_count=False).customers
    return [c for c in found if c.id != exclude_id][:limit]


# The tables whose rows the preview sums up as money (their row counts are not listed one by one).
MONEY_TABLES = ("sale", "points_transaction", "ledger_entry", "customer_card", "card_stamp")


def money_moves(business_id: int, customer_id) -> dict:
    """What of the customer's money a merge moves, in one query: its sales (how many, and what they
    total once voids and refunds are taken off), its points, its stamp cards and its store-credit
    balance (negative: owes)."""

    def owned(model):
        return (model.business_id == business_id, model.customer_id == customer_id)

    kept = ~select(SaleReversal.id).where(SaleReversal.sale_id == Sale.id).exists()
    signed = case((LedgerEntry.type == "credit", LedgerEntry.amount), else_=-LedgerEntry.amount)
    row = db.session.execute(
        select(
            select(func.count(Sale.id)).where(*owned(Sale)).scalar_subquery().label("sales"),
            select(func.coalesce(func.sum(Sale.total), 0))
            .where(*owned(Sale), kept)
            .scalar_subquery()
            .label("sales_total"),
            select(func.coalesce(func.sum(PointsTransaction.points), 0))
            .where(*owned(PointsTransaction))
            .scalar_subquery()
            .label("points"),
            select(func.count(CustomerCard.id)).where(*owned(CustomerCard)).scalar_subquery().label("cards"),
            select(func.count(LedgerEntry.id))
            .where(*owned(LedgerEntry))
            .scalar_subquery()
            .label("ledger_entries"),
            select(func.coalesce(func.sum(signed), 0))
            .where(*owned(LedgerEntry))
            .scalar_subquery()
            .label("ledger_balance"),
        )
    ).one()
    return row._asdict()
