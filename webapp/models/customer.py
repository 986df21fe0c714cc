"""The customer record, its tags, locations and marketing consents."""

import uuid
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, SmallInteger, String, Table, Text, Uuid, and_, text
from sqlalchemy.orm import Mapped, lazyload, mapped_column, relationship

from webapp.database import UTCDateTime, utcnow
from webapp.extensions import db
from webapp.models.business import Location

SOURCES = ("walk-in", "phone", "online", "import", "referral", "api", "other")
BLACKLIST_LEVELS = ("block", "warn")

customer_tag = Table(
    "customer_tag",
    db.metadata,
    Column("business_id", ForeignKey("business.id"), primary_key=True),
    Column("customer_id", ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_customer_tag_business_tag", "business_id", "tag_id", "customer_id"),
)

customer_location = Table(
    "customer_location",
    db.metadata,
    Column("business_id", ForeignKey("business.id"), primary_key=True),
    Column("customer_id", ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True),
    Column("location_id", ForeignKey("location.id"), primary_key=True),
    Index("ix_customer_location_business_location", "business_id", "location_id", "customer_id"),
)


class Tag(db.Model):
    """A label a business puts on customers ("VIP", "Allergy")."""

    __table_args__ = (Index("ix_tag_business_name", "business_id", "name", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    name: Mapped[str] = mapped_column(String(60))
    color: Mapped[str] = mapped_column(String(20), default="grey")


class MarketingPreference(db.Model):
    """Something a customer can opt in to or out of ("Email offers", "SMS reminders")."""

    __tablename__ = "marketing_preference"
    __table_args__ = (Index("ix_marketing_preference_business_name", "business_id", "name", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    name: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)


class CustomerConsent(db.Model):
    """A customer's current answer for one preference, with when and by whom it last changed."""

    __tablename__ = "customer_consent"
    __table_args__ = (
        Index("ix_customer_consent_business_pref", "business_id", "preference_id", "opted_in", "changed_at"),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )
    preference_id: Mapped[int] = mapped_column(
        ForeignKey("marketing_preference.id", ondelete="CASCADE"), primary_key=True
    )
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    opted_in: Mapped[bool]
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    preference: Mapped[MarketingPreference] = relationship(lazy="joined")


class CustomerFace:
    """How a customer reads to staff, from its own columns: shared by `Customer` and the light rows
    that lists load (see webapp/search/rows.py)."""

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def display_name(self) -> str:
        """What staff see as this customer's name."""
        if self.anonymized_at:
            return "Anonymized customer"
        return self.full_name or self.dummy_label or "Unnamed walk-in"

    @property
    def is_blacklisted(self) -> bool:
        """Blocked from booking: a `block` restriction that has not lapsed."""
        return self.restriction == "block"

    @property
    def restriction(self) -> str | None:
        """`block`, `warn` or None, taking the expiry date into account."""
        if self.blacklisted_at is None:
            return None
        if self.blacklist_expires_on and self.blacklist_expires_on <= date.today():
            return None
        return self.blacklist_level


class Customer(CustomerFace, db.Model):
    """A person in the book (or a walk-in placeholder), with counters kept in step with bookings."""

    __table_args__ = (
        Index("ix_customer_business_email", "business_id", "email_normalized", unique=True),
        Index("ix_customer_business_phone", "business_id", "phone", unique=True),
        Index("ix_customer_business_created", "business_id", "created_at"),
        Index("ix_customer_business_updated", "business_id", "updated_at"),
        Index("ix_customer_business_blacklisted", "business_id", "blacklisted_at"),
        Index("ix_customer_business_merged_into", "business_id", "merged_into_id"),
        # Deleting a customer checks the self-referencing key (is anyone merged into it?) by
        # merged_into_id alone: without this small index each delete scanned the whole book.
        Index(
            "ix_customer_merged_into",
            "merged_into_id",
            sqlite_where=text("merged_into_id IS NOT NULL"),
            postgresql_where=text("merged_into_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    first_name: Mapped[str] = mapped_column(String(255), default="")
    last_name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str | None] = mapped_column(String(255))  # as typed (trimmed)
    email_normalized: Mapped[str | None] = mapped_column(String(255))  # lower-cased, for uniqueness
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    date_of_birth: Mapped[date | None]
    company: Mapped[str] = mapped_column(String(255), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20), default="other")
    custom_field_value: Mapped[str] = mapped_column(String(255), default="")

    is_dummy: Mapped[bool] = mapped_column(default=False)
    dummy_label: Mapped[str] = mapped_column(String(80), default="")

    blacklisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    blacklist_reason: Mapped[str] = mapped_column(Text, default="")
    blacklist_level: Mapped[str] = mapped_column(String(10), default="block")
    blacklist_expires_on: Mapped[date | None]
    blacklisted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    blacklist_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    blacklist_reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    anonymized_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customer.id"))
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Counters, kept in step with bookings and sales in the same transaction; `flask recount` repairs.
    total_bookings: Mapped[int] = mapped_column(default=0)
    cancellations_by_customer: Mapped[int] = mapped_column(default=0)
    cancellations_by_business: Mapped[int] = mapped_column(default=0)
    no_shows: Mapped[int] = mapped_column(default=0)
    completed_bookings: Mapped[int] = mapped_column(default=0)
    first_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Money (webapp/money): net of reversals, from the customer's sales, points and ledger rows.
    total_spent: Mapped[int] = mapped_column(default=0)  # minor units
    total_orders: Mapped[int] = mapped_column(default=0)  # sales not reversed
    points_balance: Mapped[int] = mapped_column(default=0)
    ledger_balance: Mapped[int] = mapped_column(default=0)  # minor units; negative = owes

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    # Search keys: accent-folded, lower-cased copies of what the desk types into the search box, kept
    # in step by the mapper event in webapp/models/search_keys.py (and by the bulk loader in
    # webapp/bulk.py), so every ordinary search is an index range scan. Contains-matches use
    # `search_text` through SQLite FTS5 (trigram) or a PostgreSQL pg_trgm index (migration 0003_search).
    search_name: Mapped[str] = mapped_column(String(255), default="")  # "first last"
    search_name_rev: Mapped[str] = mapped_column(String(255), default="")  # "last first"
    search_phone: Mapped[str | None] = mapped_column(String(20))  # national significant digits
    search_company: Mapped[str] = mapped_column(String(255), default="")
    search_text: Mapped[str] = mapped_column(Text, default="")  # for contains-matches
    birth_month: Mapped[int | None] = mapped_column(SmallInteger)  # month of date_of_birth, for its filter
    # The customer's tags as lists show them ("name\x1fcolour" pairs joined by \x1e, by name), kept by the
    # triggers of migration 0009 on customer_tag and tag: a list reads it from the row it reads anyway
    # instead of probing customer_tag once per row. Never written by the app (deferred: rarely loaded).
    tag_list: Mapped[str | None] = mapped_column(Text, deferred=True)

    # Link rows are read through their business-leading primary keys (business_id, customer_id, …);
    # they are written with SQL by the services (the ORM cannot fill in business_id), hence viewonly.
    # Loaded when asked for (the profile, the edit form, merge's plan): lists, the blacklist and merge's
    # candidates load customers by the page and read none of them. A caller that reads them for many
    # customers asks with selectinload(...).
    tags: Mapped[list[Tag]] = relationship(
        secondary=customer_tag,
        primaryjoin=lambda: and_(
            Customer.business_id == customer_tag.c.business_id, Customer.id == customer_tag.c.customer_id
        ),
        secondaryjoin=lambda: Tag.id == customer_tag.c.tag_id,
        order_by=Tag.name,
        lazy="select",
        viewonly=True,
    )
    locations: Mapped[list[Location]] = relationship(
        secondary=customer_location,
        primaryjoin=lambda: and_(
            Customer.business_id == customer_location.c.business_id,
            Customer.id == customer_location.c.customer_id,
        ),
        secondaryjoin=lambda: Location.id == customer_location.c.location_id,
        order_by=Location.name,
        lazy="select",
        viewonly=True,
    )
    consents: Mapped[list[CustomerConsent]] = relationship(lazy="select", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @property
    def average_spend(self) -> int:
        """What a purchase comes to on average (minor units): spend is counted in sales only."""
        return self.total_spent // self.total_orders if self.total_orders else 0


LIVE = Customer.merged_into_id.is_(None)
# Loader options for one customer or a list of them shown without their tags, locations or consents
# (screens that need those read them by business): the one definition every feature uses.
LEAN = (lazyload(Customer.tags), lazyload(Customer.locations), lazyload(Customer.consents))


def _live_index(name: str, *columns) -> Index:
    """An index over customers that are not merged away (the only ones lists and search show).

    It ends with merged_into_id (always NULL in it): SQLite reads the table row to check a partial
    index's own condition unless the index holds the column, and a search's tiers read 101 entries
    each, so without it every search read some 400 scattered table rows."""
    return Index(name, *columns, Customer.merged_into_id, sqlite_where=LIVE, postgresql_where=LIVE)


SEARCH_INDEXES = (
    _live_index("ix_customer_search_name", Customer.business_id, Customer.search_name, Customer.id),
    _live_index("ix_customer_search_name_rev", Customer.business_id, Customer.search_name_rev, Customer.id),
    _live_index("ix_customer_search_phone", Customer.business_id, Customer.search_phone, Customer.id),
    _live_index("ix_customer_search_company", Customer.business_id, Customer.search_company, Customer.id),
    _live_index("ix_customer_search_email", Customer.business_id, Customer.email_normalized, Customer.id),
    _live_index(
        "ix_customer_placeholders", Customer.business_id, Customer.is_dummy, Customer.search_name, Customer.id
    ),
    _live_index("ix_customer_sort_created", Customer.business_id, Customer.created_at, Customer.id),
    _live_index("ix_customer_sort_updated", Customer.business_id, Customer.updated_at, Customer.id),
    _live_index("ix_customer_sort_last_visit", Customer.business_id, Customer.last_visit_at, Customer.id),
    _live_index("ix_customer_sort_bookings", Customer.business_id, Customer.total_bookings, Customer.id),
    _live_index("ix_customer_sort_spent", Customer.business_id, Customer.total_spent, Customer.id),
    _live_index("ix_customer_sort_points", Customer.business_id, Customer.points_balance, Customer.id),
    _live_index(
        "ix_customer_birth_month",
        Customer.business_id,
        Customer.birth_month,
        Customer.search_name,
        Customer.id,
    ),
)
