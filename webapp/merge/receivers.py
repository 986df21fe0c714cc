"""What duplicate management keeps in step with other features' changes."""

from sqlalchemy import delete

from webapp import signals
from webapp.extensions import db
from webapp.merge import history
from webapp.models import Customer, CustomerMatchKey, DuplicateCandidate


@signals.customer_anonymized.connect
def forget_anonymized(customer: Customer, **_) -> None:
    """An anonymized customer leaves no match keys or duplicate pairs behind (nothing to match on)."""
    db.session.execute(delete(CustomerMatchKey).where(CustomerMatchKey.customer_id == customer.id))
    db.session.execute(
        delete(DuplicateCandidate).where(
            DuplicateCandidate.business_id == customer.business_id,
            (DuplicateCandidate.customer_a_id == customer.id)
            | (DuplicateCandidate.customer_b_id == customer.id),
        )
    )


@signals.profile_shown.connect
def show_merge_history(customer: Customer, events=(), **_) -> dict:
    """The profile's merge events: their labels and whether each can be undone now."""
    return history.profile_context(list(events))
