"""What blacklisting keeps in step with other features' changes: former contacts, for ban-evasion checks."""

from sqlalchemy import delete

from webapp import signals
from webapp.blacklist import history
from webapp.extensions import db
from webapp.models import Customer, CustomerContactHistory


@signals.contact_changed.connect
def remember_former_contact(
    customer: Customer, email_before: str | None = None, phone_before: str | None = None, **_
) -> None:
    """Keep the email or phone a customer's edit replaced: a blacklisted person may come back with it."""
    if not email_before and not phone_before:
        return
    db.session.add(
        CustomerContactHistory(
            business_id=customer.business_id,
            customer_id=customer.id,
            email_normalized=email_before or None,
            phone=phone_before or None,
        )
    )
    db.session.flush()


@signals.customer_anonymized.connect
def forget_former_contacts(customer: Customer, **_) -> None:
    """An anonymized customer leaves no former email or phone behind."""
    db.session.execute(
        delete(CustomerContactHistory).where(
            CustomerContactHistory.business_id == customer.business_id,
            CustomerContactHistory.customer_id == customer.id,
        )
    )


@signals.profile_shown.connect
def show_restriction(customer: Customer, **_) -> dict:
    """The profile's restriction panel (who restricted and reviewed) and the blacklist events' labels."""
    return history.profile_context(customer)
