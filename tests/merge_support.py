"""Helpers for merge tests: a full dump of the rows a merge touches."""

from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.models import AuditEvent, Booking, Customer, CustomerConsent, CustomerContactHistory
from webapp.models.customer import customer_location, customer_tag


def _rows(table, *where):
    return sorted(
        (
            tuple(sorted((k, repr(v)) for k, v in row._mapping.items()))
            for row in db.session.execute(select(table).where(*where))
        ),
    )


def dump(*customers) -> dict:
    """Every column of the customers, their bookings, tags, locations, consents, former contact
    details and audit events."""
    db.session.expire_all()
    ids = [c.id for c in customers]
    return {
        "customer": _rows(Customer.__table__, Customer.__table__.c.id.in_(ids)),
        "booking": _rows(Booking.__table__, Booking.__table__.c.customer_id.in_(ids)),
        "customer_tag": _rows(customer_tag, customer_tag.c.customer_id.in_(ids)),
        "customer_location": _rows(customer_location, customer_location.c.customer_id.in_(ids)),
        "customer_consent": _rows(
            CustomerConsent.__table__, CustomerConsent.__table__.c.customer_id.in_(ids)
        ),
        "customer_contact_history": _rows(
            CustomerContactHistory.__table__, CustomerContactHistory.__table__.c.customer_id.in_(ids)
        ),
        "audit_event": _rows(
            AuditEvent.__table__,
            or_(AuditEvent.__table__.c.customer_id.in_(ids), AuditEvent.__table__.c.customer_id.is_(None)),
        ),
    }


def link(customer, tags=(), locations=()) -> None:
    """Give a customer tags and locations (the link tables carry business_id, so not via the ORM list)."""
    if tags:
        db.session.execute(
            customer_tag.insert(),
            [{"business_id": customer.business_id, "customer_id": customer.id, "tag_id": t.id} for t in tags],
        )
    if locations:
        db.session.execute(
            customer_location.insert(),
            [
                {"business_id": customer.business_id, "customer_id": customer.id, "location_id": loc.id}
                for loc in locations
            ],
        )
    db.session.commit()
    db.session.expire(customer)
