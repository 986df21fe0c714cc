"""Customers in and out of the API: a body to the services' data, a record to its representation, the
list's query to search Filters. The rules stay in webapp/customers/services.py."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, Integer, String, bindparam, func, literal, select, union_all

from webapp.api import schemas
from webapp.api.cards import CardRow, ProgramRow, card_fields, customer_cards
from webapp.customers.fields import FIELDS, normalize_email
from webapp.extensions import db
from webapp.models import (
    Business,
    CardProgram,
    Customer,
    CustomerCard,
    CustomerConsent,
    Location,
    StaffUser,
    Tag,
)
from webapp.models.customer import customer_location
from webapp.search import Filters
from webapp.search.rows import LIST_COLUMNS, rows_to_customers
from webapp.settings.named_lists import create_tag
from webapp.text import fold


def representation(c: Customer) -> schemas.Customer:
    """The customer as the API shows it (tags, locations and consents loaded by the caller or lazily;
    its cards read here)."""
    return represent(
        c,
        [t.name for t in c.tags],
        [loc.id for loc in c.locations],
        {str(k.preference_id): k.opted_in for k in c.consents},
        customer_cards(c),
    )


def represent(
    c, tags: list[str], location_ids: list[int], consents: dict[str, bool], cards: list[dict]
) -> schemas.Customer:
    """A customer (a record or a row of API_COLUMNS) with its tag names, location ids, consents and cards."""
    return schemas.Customer(
        id=c.id,
        first_name=c.first_name,
        last_name=c.last_name,
        full_name=c.full_name,
        email=c.email,
        phone=c.phone,
        date_of_birth=c.date_of_birth,
        company=c.company,
        address=c.address,
        notes=c.notes,
        tags=tags,
        source=c.source,
        status="active",
        avatar_url=None,
        custom_field_value=c.custom_field_value,
        location_ids=location_ids,
        marketing_preferences=consents,
        is_dummy=c.is_dummy,
        is_blacklisted=c.is_blacklisted,
        blacklist_reason=c.blacklist_reason if c.restriction else "",
        blacklist_level=c.restriction,
        total_bookings=c.total_bookings,
        total_cancellations=c.cancellations_by_customer,
        no_shows=c.no_shows,
        loyalty_points=c.points_balance,
        total_spent=c.total_spent,
        total_orders=c.total_orders,
        ledger_balance=c.ledger_balance,
        cards=cards,
        created_at=c.created_at,
        updated_at=c.updated_at,
        version=c.version,
    )


# What `represent` reads of a customer row besides the search's LIST_COLUMNS: a searched page comes with
# them in the search's own statement, then one more for its locations, consents and cards (not ORM
# instances with four relationship loads each).
API_EXTRA_COLUMNS = (
    Customer.address,
    Customer.notes,
    Customer.source,
    Customer.custom_field_value,
    Customer.cancellations_by_customer,
    Customer.points_balance,
    Customer.total_orders,
    Customer.updated_at,
    Customer.version,
)
IDS, BUSINESS = bindparam("ids", expanding=True), bindparam("business_id")
# Built once: a statement's construction costs more than SQLite takes to run it.
ROWS_OF = select(*LIST_COLUMNS, *API_EXTRA_COLUMNS).where(
    Customer.business_id == BUSINESS, Customer.id.in_(IDS)
)
# A customer's locations (with their names, to order them), consents and stamp cards (with their programs),
# in one round trip. A card's row is the one with a `code`; of the others a location's has no `opted_in`.
NO_TEXT, NO_NUMBER = literal(None, String), literal(None, Integer)
CARD_COLUMNS = (
    NO_TEXT.label("code"),
    NO_NUMBER.label("program_id"),
    NO_NUMBER.label("stamps"),
    NO_NUMBER.label("stamps_needed"),
    NO_NUMBER.label("rewards_redeemed"),
)
LINKS_OF = union_all(
    select(
        customer_location.c.customer_id,
        Location.id.label("value"),
        Location.name.label("name"),
        literal(None, Boolean).label("opted_in"),
        *CARD_COLUMNS,
    )
    .join(Location, Location.id == customer_location.c.location_id)
    .where(customer_location.c.business_id == BUSINESS, customer_location.c.customer_id.in_(IDS)),
    select(
        CustomerConsent.customer_id,
        CustomerConsent.preference_id,
        NO_TEXT.label("name"),
        CustomerConsent.opted_in,
        *CARD_COLUMNS,
    ).where(CustomerConsent.business_id == BUSINESS, CustomerConsent.customer_id.in_(IDS)),
    select(
        CustomerCard.customer_id,
        CustomerCard.id,
        CardProgram.name,
        literal(None, Boolean).label("opted_in"),
        CustomerCard.code,
        CustomerCard.program_id,
        CustomerCard.stamps,
        CardProgram.stamps_required,
        CustomerCard.rewards_redeemed,
    )
    .join(CardProgram, CardProgram.id == CustomerCard.program_id)
    .where(CustomerCard.business_id == BUSINESS, CustomerCard.customer_id.in_(IDS)),
)


def representations(business_id: int, ids: list) -> list[schemas.Customer]:
    """The business's customers with these ids, in the order given (ids it does not have are left out):
    two statements for a whole page."""
    if not ids:
        return []
    given = {"business_id": business_id, "ids": list(ids)}
    rows, tags = rows_to_customers(db.session.connection().execute(ROWS_OF, given))
    found = {row.id: row for row in rows}
    return represent_rows(business_id, [found[i] for i in ids if i in found], tags)


def represent_rows(business_id: int, rows: list, tags: dict) -> list[schemas.Customer]:
    """Customer rows with API_EXTRA_COLUMNS (from a search, or `representations`) and their tags
    ({id: chips}) as the API shows them: one statement for their locations, consents and cards."""
    if not rows:
        return []
    given = {"business_id": business_id, "ids": [row.id for row in rows]}
    connection = db.session.connection()
    locations: dict = {}
    consents: dict = {}
    cards: dict = {}
    for link in connection.execute(LINKS_OF, given):
        customer_id, value, name, opted_in = link[:4]
        if link.code is not None:
            program = ProgramRow(name=name, stamps_required=link.stamps_needed)
            card = CardRow(value, link.program_id, link.code, link.stamps, link.rewards_redeemed, program)
            cards.setdefault(customer_id, []).append(card)
        elif opted_in is None:
            locations.setdefault(customer_id, []).append((name, value))
        else:
            consents.setdefault(customer_id, {})[str(value)] = opted_in
    locations = {i: [value for _, value in sorted(pairs)] for i, pairs in locations.items()}
    return [
        represent(
            row,
            [chip.name for chip in tags.get(row.id, [])],
            locations.get(row.id, []),
            consents.get(row.id, {}),
            [card_fields(c).model_dump(mode="json") for c in sorted(cards.get(row.id, []), key=id_of)],
        )
        for row in rows
    ]


def id_of(card: CardRow) -> int:
    """A card's id, its order in a customer's cards (oldest first, as `cards_of`)."""
    return card.id


def service_data(business: Business, body: schemas.CustomerWrite, actor: StaffUser | None) -> dict:
    """The services' data dict from the fields the body gave (names split, tags by name, consents)."""
    given = body.model_fields_set
    data = {f: getattr(body, f) for f in FIELDS if f in given}
    if "name" in given and not given & {"first_name", "last_name"}:
        first, _, last = (body.name or "").strip().partition(" ")
        data["first_name"], data["last_name"] = first, last.strip()
    for f in ("first_name", "last_name", "company", "address", "notes", "custom_field_value"):
        if f in data and data[f] is None:
            data[f] = ""
    if "tags" in given:
        data["tag_ids"] = [t.id for t in tags_named(business, body.tags or [], actor)]
    if "location_ids" in given:
        data["location_ids"] = body.location_ids or []
    consents = {int(k) if k.isdigit() else k: v for k, v in (body.marketing_preferences or {}).items()}
    consents.update({i: True for i in body.marketing_preference_ids or []})
    if consents:
        data["consents"] = consents
    return data


def new_customer_data(data: dict) -> dict:
    """A create's data: a customer the API brings in has source "api" unless the body names one."""
    if not data.get("source"):
        data["source"] = "api"
    return data


def tags_named(business: Business, names: list[str], actor: StaffUser | None) -> list[Tag]:
    """The business's tags with these names (any case), creating those it does not have yet."""
    wanted = {" ".join(n.split()).casefold(): " ".join(n.split()) for n in names if n.strip()}
    found = db.session.scalars(
        select(Tag).where(Tag.business_id == business.id, func.lower(Tag.name).in_(list(wanted)))
    ).all()
    have = {t.name.casefold(): t for t in found}
    created = [create_tag(business, name, "grey", actor) for key, name in wanted.items() if key not in have]
    return [*have.values(), *created]


def day_bounds(exact: date | None, start: date | None, end: date | None, tz: ZoneInfo) -> tuple:
    """Inclusive days (one day, or a range) as aware [start, end) bounds in the business's timezone."""
    start, end = (exact, exact) if exact else (start, end)
    return (
        datetime.combine(start, time(), tz) if start else None,
        datetime.combine(end + timedelta(days=1), time(), tz) if end else None,
    )


def filters(business: Business, q: schemas.CustomerQuery) -> Filters:
    """The search Filters for the list's query (labels by name; an unknown label matches nobody)."""
    tz = ZoneInfo(business.timezone or "UTC")
    tag_ids = []
    if q.labels:
        lowered = [label.casefold() for label in q.labels]
        tag_ids = list(
            db.session.scalars(
                select(Tag.id).where(Tag.business_id == business.id, func.lower(Tag.name).in_(lowered))
            )
        ) or [0]
    return Filters(
        tags=tag_ids,
        locations=q.associated_venues,
        birth_months=sorted(set(q.dob_month)),
        created=day_bounds(q.created_date, q.created_date_from, q.created_date_to, tz),
        updated=day_bounds(q.last_updated, q.last_updated_from, q.last_updated_to, tz),
        booked=day_bounds(q.booking_date, q.booking_date_from, q.booking_date_to, tz),
        emails=[e for e in (normalize_email(x) for x in q.email) if e],
        full_name=fold(q.full_name or ""),
        opted_in=q.opted_in,
        opted_in_changed=day_bounds(q.opted_in_date, q.opted_in_date_from, q.opted_in_date_to, tz),
        opted_out=q.opted_out,
        opted_out_changed=day_bounds(q.opted_out_date, q.opted_out_date_from, q.opted_out_date_to, tz),
        today=datetime.now(tz).date(),
    )
