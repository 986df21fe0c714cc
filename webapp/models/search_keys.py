"""The customer's search keys: accent-folded, lower-cased copies of names, phone and company, kept in
step by a mapper event whenever the ORM writes a customer (bulk loads compute them with `search_keys`)."""

from sqlalchemy import event

from webapp.models.customer import Customer
from webapp.phones import national_digits
from webapp.text import fold


def search_keys(first_name, last_name, dummy_label, email_normalized, phone, company) -> dict:
    """All search columns of one customer, from its stored fields."""
    name = fold(f"{first_name or ''} {last_name or ''}") or fold(dummy_label)
    reverse = fold(f"{last_name or ''} {first_name or ''}") or fold(dummy_label)
    digits = national_digits(phone)
    company_key = fold(company)
    text = " ".join(p for p in (name, (email_normalized or "").lower(), company_key, digits) if p)
    return {
        "search_name": name[:255],
        "search_name_rev": reverse[:255],
        "search_phone": digits,
        "search_company": company_key[:255],
        "search_text": text,
    }


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def refresh_keys(mapper, connection, customer: Customer) -> None:
    """Recompute the search columns from the stored fields whenever the ORM writes a customer."""
    keys = search_keys(
        customer.first_name,
        customer.last_name,
        customer.dummy_label,
        customer.email_normalized,
        customer.phone,
        customer.company,
    )
    keys["birth_month"] = customer.date_of_birth.month if customer.date_of_birth else None
    for name, value in keys.items():
        if getattr(customer, name, None) != value:
            setattr(customer, name, value)
