"""Deterministic demo data: a business, its staff, and fake customers with bookings (loaded by `bulk`),
then their sales, points, stamp cards and a few open accounts (`add_demo_money`)."""

import multiprocessing
import os
import random
import time
import uuid
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from faker import Faker
from sqlalchemy import func, select, text

from webapp import bulk
from webapp.extensions import db
from webapp.models import Business, Customer, CustomerCard, Location, MarketingPreference, StaffUser, Tag
from webapp.search import tag_lists
from webapp.settings import services as settings_services

DEMO_BUSINESS = "Demo Salon"
DEMO_PASSWORD = "frontdesk-demo"
DEMO_STAFF = (
    ("owner@demo.frontdesk.test", "Olivia Owner", "owner"),
    ("manager@demo.frontdesk.test", "Max Manager", "manager"),
    ("reception@demo.frontdesk.test", "Rita Reception", "receptionist"),
)
TAGS = (
    ("VIP", "gold"),
    ("Regular", "green"),
    ("Allergy", "red"),
    ("Student", "blue"),
    ("New", "purple"),
    ("Wholesale", "grey"),
)
SERVICES = (
    ("Cut and finish", 4500, 60),
    ("Colour", 8500, 120),
    ("Blow-dry", 3000, 45),
    ("Manicure", 2800, 45),
    ("Massage 60 min", 6500, 60),
    ("Facial", 5500, 60),
    ("Beard trim", 1800, 30),
)
STAFF_NAMES = ("Amira", "Ben", "Chloe", "Dev", "Elena", "Femi")
CHUNK = 20_000


@dataclass
class DemoResult:
    """What `flask demo-data` reports."""

    business: str
    email: str
    password: str
    customers: int
    bookings: int
    seconds: float


def ensure_business() -> Business:
    """The demo business with its locations, staff, tags and preferences (created once)."""
    business = db.session.scalar(select(Business).where(Business.name == DEMO_BUSINESS))
    if business is not None:
        return business
    business = settings_services.create_business(
        DEMO_BUSINESS, timezone="Europe/London", region="GB", currency="GBP"
    )
    main = db.session.scalar(select(Location).where(Location.business_id == business.id))
    main.name = "Soho"
    db.session.add(Location(business_id=business.id, name="Shoreditch"))
    for email, name, role in DEMO_STAFF:
        settings_services.create_staff(
            business, email=email, name=name, role=role, password=DEMO_PASSWORD, actor=None, must_change=False
        )
    for name, color in TAGS:
        db.session.add(Tag(business_id=business.id, name=name, color=color))
    for name in ("Email offers", "SMS reminders"):
        db.session.add(MarketingPreference(business_id=business.id, name=name))
    db.session.flush()
    return business


def name_pools(seed: int) -> tuple[list[str], list[str], list[str]]:
    """First names, last names and companies from Faker (several locales, so accents appear)."""
    fake = Faker(["en_GB", "en_US", "es_ES", "fr_FR", "de_DE", "vi_VN", "it_IT"])
    fake.seed_instance(seed)
    firsts = sorted({fake.first_name() for _ in range(3000)})
    lasts = sorted({fake.last_name() for _ in range(4000)})
    companies = sorted({fake.company() for _ in range(600)})
    return firsts, lasts, companies


def ascii_slug(text: str) -> str:
    """Lower-case letters only, for demo email addresses."""
    import unicodedata

    norm = unicodedata.normalize("NFKD", text)
    return "".join(c for c in norm if c.isascii() and c.isalpha()).lower() or "guest"


@dataclass
class Plan:
    """What every chunk of generated customers needs to know (plain values, so a worker can use it)."""

    seed: int
    business_id: int
    offset: int
    count: int
    pools: tuple
    location_ids: list
    tag_ids: list
    tag_faces: dict  # tag id -> tag_lists.TagChip, for the rows' own tag lists
    owner_id: int | None
    today: datetime
    dialect: str
    chunk: int = CHUNK


def load_demo(count: int, seed: int, chunk: int = CHUNK) -> DemoResult:
    """Add `count` customers (and their bookings) to the demo business. Commits in chunks; on a
    multi-core machine a worker process generates the next chunk while this one inserts."""
    started = time.perf_counter()
    business = ensure_business()
    db.session.commit()
    plan = Plan(
        seed=seed,
        business_id=business.id,
        offset=db.session.scalar(
            select(func.count()).select_from(Customer).where(Customer.business_id == business.id)
        ),
        count=count,
        pools=name_pools(seed),
        location_ids=db.session.scalars(select(Location.id).where(Location.business_id == business.id)).all(),
        tag_ids=db.session.scalars(select(Tag.id).where(Tag.business_id == business.id)).all(),
        tag_faces={
            t.id: tag_lists.TagChip(t.name, t.color)
            for t in db.session.scalars(select(Tag).where(Tag.business_id == business.id))
        },
        owner_id=db.session.scalar(select(StaffUser.id).where(StaffUser.email == DEMO_STAFF[0][0])),
        today=datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0),
        dialect=db.session.connection().dialect.name,
        chunk=chunk,
    )
    total_bookings = bulk.load_chunks(generated_chunks(plan), business.id, count)
    add_demo_sales(business)  # spend is counted in sales: the bookings' sales and their points
    return DemoResult(
        business.name, DEMO_STAFF[0][0], DEMO_PASSWORD, count, total_bookings, time.perf_counter() - started
    )


def generated_chunks(plan: Plan):
    """The chunks in order: made here on one CPU, by a worker process (two chunks ahead) on more."""
    starts = list(range(0, plan.count, plan.chunk))
    if (os.cpu_count() or 1) < 2 or len(starts) < 3:
        for index, start in enumerate(starts):
            yield generate_chunk(plan, index, start)
        return
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        pending = deque()
        for index, start in enumerate(starts):
            pending.append(pool.submit(generate_chunk, plan, index, start))
            if len(pending) > 2:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def generate_chunk(plan: Plan, index: int, start: int) -> list:
    """Rows for customers start … start+CHUNK of the load, ready for the driver, per table in
    BULK_TABLES order. Seeded by (seed, chunk), so a seed always gives the same book."""
    rng = random.Random(f"{plan.seed}:{plan.offset}:{index}")
    firsts, lasts, companies = plan.pools
    customers, bookings, tags, locs = [], [], [], []
    for i in range(start + plan.offset, min(start + plan.chunk, plan.count) + plan.offset):
        row, rows = demo_customer(
            rng, i, plan.business_id, firsts, lasts, companies, plan.location_ids, plan.today, plan.owner_id
        )
        customers.append(row)
        bookings.extend(rows)
        chosen = rng.sample(plan.tag_ids, k=rng.choice((0, 0, 0, 1, 1, 2))) if not row["is_dummy"] else []
        for tag_id in chosen:
            tags.append({"business_id": plan.business_id, "customer_id": row["id"], "tag_id": tag_id})
        bulk.with_tag_list(row, (plan.tag_faces[t] for t in chosen))
        if rng.random() < 0.8:
            location_id = rng.choice(plan.location_ids)
            locs.append(
                {"business_id": plan.business_id, "customer_id": row["id"], "location_id": location_id}
            )
    return bulk.driver_chunk(customers, bookings, tags, locs, plan.dialect)


def demo_customer(rng, i, business_id, firsts, lasts, companies, location_ids, today, owner_id):
    """One customer row and its booking rows, with counters that agree with the bookings."""
    cid = uuid.UUID(int=rng.getrandbits(128), version=4)
    created = today - timedelta(days=rng.randint(1, 1500), minutes=rng.randint(0, 1439))
    is_dummy = rng.random() < 0.03
    first, last = rng.choice(firsts), rng.choice(lasts)
    row = {
        "id": cid,
        "business_id": business_id,
        "first_name": "",
        "last_name": "",
        "email": None,
        "email_normalized": None,
        "phone": None,
        "date_of_birth": None,
        "birth_month": None,
        "company": "",
        "address": "",
        "notes": "",
        "source": rng.choice(("walk-in", "phone", "online", "online", "referral", "other")),
        "is_dummy": is_dummy,
        "dummy_label": "",
        "created_at": created,
        "updated_at": created,
        "version": 1,
        "blacklisted_at": None,
        "blacklist_reason": "",
        "blacklist_level": "block",
        "blacklisted_by_id": None,
    }
    if is_dummy:
        row["dummy_label"] = f"Walk-in {created:%H:%M}"
        row["source"] = "walk-in"
    else:
        row.update(first_name=first, last_name=last)
        contact = rng.random()
        if contact < 0.85:
            email = f"{ascii_slug(first)}.{ascii_slug(last)}{i}@example.{rng.choice(('com', 'net', 'org'))}"
            row.update(email=email, email_normalized=email)
        if contact > 0.1:
            row["phone"] = f"+4479{(i * 7919 + 12345) % 100_000_000:08d}"
        if rng.random() < 0.6:
            row["date_of_birth"] = date(rng.randint(1940, 2007), rng.randint(1, 12), rng.randint(1, 28))
            row["birth_month"] = row["date_of_birth"].month
        if rng.random() < 0.15:
            row["company"] = rng.choice(companies)
        if rng.random() < 0.1:
            row["notes"] = rng.choice(
                (
                    "Prefers mornings.",
                    "Allergic to latex.",
                    "Likes a quiet room.",
                    "Always runs 10 minutes late.",
                    "Pays by card only.",
                )
            )
        if rng.random() < 0.01:
            row.update(
                blacklisted_at=created + timedelta(days=30),
                blacklisted_by_id=owner_id,
                blacklist_reason=rng.choice(
                    ("Three no-shows in a row.", "Abusive to staff.", "Unpaid bill.")
                ),
            )
    bookings = []
    counters = dict(
        total_bookings=0,
        cancellations_by_customer=0,
        cancellations_by_business=0,
        no_shows=0,
        completed_bookings=0,
        first_visit_at=None,
        last_visit_at=None,
        total_spent=0,
    )
    for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4, 6))):
        service, price, minutes = rng.choice(SERVICES)
        starts = today + timedelta(
            days=rng.randint(-700, 40), hours=rng.randint(9, 18), minutes=rng.choice((0, 15, 30, 45))
        )
        if starts >= today:  # from today on: still booked (only a visit that has started can be completed)
            status, by = "booked", None
        else:
            status = rng.choices(("completed", "cancelled", "no_show"), (85, 10, 5))[0]
            by = rng.choice(("customer", "business")) if status == "cancelled" else None
        bookings.append(
            {
                "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "business_id": business_id,
                "customer_id": cid,
                "location_id": rng.choice(location_ids),
                "service": service,
                "staff_name": rng.choice(STAFF_NAMES),
                "starts_at": starts,
                "ends_at": starts + timedelta(minutes=minutes),
                "status": status,
                "cancelled_by": by,
                "price": price,
                "notes": "",
                "created_at": min(created, starts),
                "updated_at": min(created, starts),
            }
        )
        counters["total_bookings"] += 1
        if status == "cancelled":
            counters["cancellations_by_" + by] += 1
        elif status == "no_show":
            counters["no_shows"] += 1
        elif status == "completed":
            counters["completed_bookings"] += 1
            counters["total_spent"] += price
            counters["first_visit_at"] = min(filter(None, (counters["first_visit_at"], starts)))
            counters["last_visit_at"] = max(filter(None, (counters["last_visit_at"], starts)))
    row.update(counters)
    bulk.add_search_keys(row)
    return row, bookings


# --- money and loyalty ------------------------------------------------------------------------------

PROGRAMS = (
    # name, stamps needed, reward, welcome stamps, a stamp for each completed booking
    ("Blow-dry card", 8, "Free blow-dry", 1, True),
    ("Coffee club", 10, "Free coffee", 0, False),
)


def add_demo_money(seed: int, cards: int = 60, owing: int = 12) -> dict:
    """The demo book's money: each completed booking with a price has its sale, with the points it
    earned (`add_demo_sales`, which `load_demo` runs too); then, through the services,
    two stamp-card programs with `cards` customers enrolled (some with a reward ready), `owing`
    customers who bought on account (a few paid part of it) and a few redemptions. Commits."""
    from webapp.loyalty import cards as card_services
    from webapp.loyalty import programs as program_services
    from webapp.money import ledger, points, sales

    business = ensure_business()
    owner = db.session.scalar(select(StaffUser).where(StaffUser.email == DEMO_STAFF[0][0]))
    add_demo_sales(business)

    rng = random.Random(f"money:{seed}")
    programs = {p.name: p for p in program_services.programs_of(business)}
    for name, needed, reward, welcome, on_complete in PROGRAMS:
        if name not in programs:
            programs[name] = program_services.create_program(
                business,
                name=name,
                stamps_required=needed,
                reward=reward,
                welcome_stamps=welcome,
                stamp_on_complete=on_complete,
                active=True,
                actor=owner,
            )
    db.session.commit()
    regulars = db.session.scalars(
        select(Customer)
        .where(
            Customer.business_id == business.id,
            Customer.merged_into_id.is_(None),
            Customer.anonymized_at.is_(None),
            Customer.is_dummy.is_(False),
            Customer.total_orders > 0,
        )
        .order_by(Customer.search_name, Customer.id)
        .limit((cards + owing) * 3)
    ).all()
    rng.shuffle(regulars)
    done = {"cards": 0, "owing": 0, "redeemed": 0}
    for customer in regulars[:cards]:
        program = programs[rng.choice(PROGRAMS)[0]]
        if db.session.scalar(
            select(func.count())
            .select_from(CustomerCard)
            .where(CustomerCard.customer_id == customer.id, CustomerCard.program_id == program.id)
        ):
            continue
        card = card_services.enrol(customer, program, actor=owner)
        extra = rng.randint(0, program.stamps_required + 2)
        if extra:
            card_services.add_stamps(card, count=extra, actor=owner)
        if rng.random() < 0.3 and card.stamps >= program.stamps_required:
            card_services.redeem_reward(card, actor=owner)
        db.session.commit()
        done["cards"] += 1
    for customer in regulars[cards : cards + owing]:
        service, price, _ = rng.choice(SERVICES)
        sales.record_sale(customer, total=price, on_account=True, description=service, actor=owner)
        if rng.random() < 0.4:
            ledger.record_payment(customer, amount=price // 2, reference="Cash", actor=owner)
        db.session.commit()
        done["owing"] += 1
    for customer in regulars[cards + owing : cards + owing + 8]:
        db.session.refresh(customer)
        if customer.points_balance >= 50:
            points.redeem_points(customer, points=rng.randint(10, customer.points_balance // 2), actor=owner)
            db.session.commit()
            done["redeemed"] += 1
    return done


def add_demo_sales(business: Business) -> None:
    """Each completed booking with a price gets its sale and the points it earned (set-based), so the
    book's spend, orders and points equal their rows, as `flask recount` checks. Commits."""
    b = {"b": business.id, "per": business.points_per_unit}
    for statement in money_backfill(db.session.connection().dialect.name):
        db.session.execute(text(statement), b)
    db.session.commit()


def money_backfill(dialect: str) -> tuple[str, str, str]:
    """Set-based statements for `add_demo_money`: sales for completed priced bookings without one,
    their earned points as transactions with a running balance, and the customers' counters."""
    new_id = "gen_random_uuid()" if dialect == "postgresql" else "lower(hex(randomblob(16)))"
    key = "replace(cast(b.id as text), '-', '')"
    sales_sql = (
        "INSERT INTO sale (id, business_id, customer_id, receipt_number, total, on_account, booking_id,"
        " points_earned, description, created_by_id, created_at)"
        f" SELECT {new_id}, b.business_id, b.customer_id, 'BKG-' || {key}, b.price, false, b.id,"
        " (b.price / 100) * :per, b.service, NULL, b.ends_at FROM booking b"
        " WHERE b.business_id = :b AND b.status = 'completed' AND b.price > 0"
        " AND NOT EXISTS (SELECT 1 FROM sale s WHERE s.business_id = :b AND s.booking_id = b.id)"
    )
    points_sql = (
        "INSERT INTO points_transaction (business_id, customer_id, kind, points, balance_after,"
        " discount_amount, sale_id, reason, created_by_id, created_at)"
        " SELECT s.business_id, s.customer_id, 'earn', s.points_earned,"
        " c.points_balance + sum(s.points_earned)"
        " OVER (PARTITION BY s.customer_id ORDER BY s.created_at, s.id),"
        " 0, s.id, '', NULL, s.created_at FROM sale s JOIN customer c ON c.id = s.customer_id"
        " WHERE s.business_id = :b AND s.points_earned > 0"
        " AND NOT EXISTS (SELECT 1 FROM points_transaction p WHERE p.sale_id = s.id)"
    )
    counters_sql = (
        "UPDATE customer SET"
        " total_orders = (SELECT count(*) FROM sale s WHERE s.business_id = customer.business_id"
        " AND s.customer_id = customer.id),"
        " points_balance = coalesce((SELECT sum(p.points) FROM points_transaction p"
        " WHERE p.business_id = customer.business_id AND p.customer_id = customer.id), 0)"
        " WHERE customer.business_id = :b AND customer.total_spent > 0"
    )
    return sales_sql, points_sql, counters_sql
