"""Ban evasion on the customer forms: warn when an email or phone is (or was) a restricted customer's."""

from flask import flash
from markupsafe import Markup

from webapp.blacklist.services import ban_evasion_matches
from webapp.edge import customer_url
from webapp.models import Business, Customer
from webapp.phones import e164_or_none


def evasion_for(business: Business, email: str | None = None, phone: str | None = None, exclude_id=None):
    """Restricted customers whose present or former email or phone is this one (as typed)."""
    return ban_evasion_matches(
        business.id,
        (email or "").strip().lower() or None,
        e164_or_none(phone, business.phone_region),
        exclude_id=exclude_id,
    )


def evasion_message(matches: list[Customer]) -> Markup:
    """ "This email or phone is (or was) used by <Name>, who is blacklisted: reason." (names linked)."""
    parts = []
    for c in matches:
        what = "blacklisted" if c.restriction == "block" else "flagged with a warning"
        parts.append(
            Markup('<a href="{}">{}</a>, who is {} ({})').format(
                customer_url(c), c.display_name, what, c.blacklist_reason
            )
        )
    return Markup("Possible ban evasion: this email or phone is, or was, used by {}.").format(
        Markup("; ").join(parts)
    )


def flash_evasion(customer: Customer) -> None:
    """After saving a customer, warn if their contact details belong (or belonged) to a restricted one."""
    matches = ban_evasion_matches(
        customer.business_id, customer.email_normalized, customer.phone, exclude_id=customer.id
    )
    if matches:
        flash(evasion_message(matches), "warning")
