"""Money and loyalty: sales, their reversals, points, the store-credit ledger and stamp cards.

Point-of-sale grade: nothing here is edited in place. A sale is voided or refunded by a reversal row;
points and store credit move only by appending a transaction that records the balance after it; a
card's stamps move only by appending a stamp row. Every balance kept on a row (a customer's
`points_balance`, `ledger_balance`, `total_spent`, `total_orders`; a card's `stamps`) is the sum of its
rows, kept in step in the same transaction under the customer's row lock (`webapp.models.locks`), and
`flask recount` checks and repairs it. The one column a row ever changes is its owner: a merge or a
transfer moves rows to the survivor (`customer_id`) and its undo moves them back.
"""

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.database import BigId, UTCDateTime, utcnow
from webapp.extensions import db

REVERSAL_KINDS = ("void", "refund")
POINTS_KINDS = ("earn", "redeem", "adjust", "clawback", "move")
LEDGER_TYPES = ("credit", "debit")
LEDGER_KINDS = ("sale", "payment", "adjust", "reversal", "move")
STAMP_KINDS = ("welcome", "stamp", "redeem", "move")


class Sale(db.Model):
    """A purchase: its total in minor units, a receipt number unique in the business, optionally the
    booking it paid for (at most one sale per booking), paid now or on account (then it debits the
    ledger). `points_earned` is what it earned when recorded (a reversal claws them back)."""

    __table_args__ = (
        Index("ix_sale_business_receipt", "business_id", "receipt_number", unique=True),
        # Customer-leading (then business_id): the customer's purchases, and the foreign-key check of a
        # customer's delete (SQLite, and PostgreSQL's check query, need the key's column first).
        Index("ix_sale_customer_created", "customer_id", "business_id", "created_at", "id"),
        Index(
            "ix_sale_booking",  # at most one sale per booking; also a booking delete's key check
            "booking_id",
            "business_id",
            unique=True,
            sqlite_where=text("booking_id IS NOT NULL"),
            postgresql_where=text("booking_id IS NOT NULL"),
        ),
        CheckConstraint("total > 0", name="total_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"))
    receipt_number: Mapped[str] = mapped_column(String(40))
    total: Mapped[int]  # minor units, > 0
    on_account: Mapped[bool] = mapped_column(default=False)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("booking.id"))
    points_earned: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(String(255), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    reversal: Mapped["SaleReversal | None"] = relationship(lazy="raise_on_sql", uselist=False)


class SaleReversal(db.Model):
    """A void (a mistake, the same day) or a refund (money given back) of a whole sale, by a manager
    with a reason. At most one per sale (the unique key is what stops two managers reversing twice)."""

    __tablename__ = "sale_reversal"
    __table_args__ = (
        Index("ix_sale_reversal_sale", "sale_id", unique=True),
        Index("ix_sale_reversal_business_created", "business_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sale.id"))
    kind: Mapped[str] = mapped_column(String(10))  # void | refund
    amount: Mapped[int]  # minor units: the sale's total
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReceiptSequence(db.Model):
    """The last generated receipt number of a business's day (REC-YYYYMMDD-NNN, the business's local
    date): incremented with one INSERT … ON CONFLICT DO UPDATE … RETURNING, so two tills never get the
    same number."""

    __tablename__ = "receipt_sequence"

    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class PointsTransaction(db.Model):
    """One movement of a customer's loyalty points (signed `points`), with the balance after it."""

    __tablename__ = "points_transaction"
    __table_args__ = (
        Index("ix_points_transaction_customer", "customer_id", "business_id", "id"),
        Index("ix_points_transaction_sale", "sale_id"),
        CheckConstraint("balance_after >= 0", name="balance_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"))
    kind: Mapped[str] = mapped_column(String(10))  # earn | redeem | adjust | clawback | move
    points: Mapped[int]  # signed
    balance_after: Mapped[int]
    # A redemption's discount in minor units (points × the point's value when redeemed).
    discount_amount: Mapped[int] = mapped_column(default=0)
    sale_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sale.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerEntry(db.Model):
    """One store-credit movement, as the point of sale's: a `credit` (payment received, credit given)
    or a `debit` (an on-account sale) of a positive `amount`, with the balance after it (negative =
    the customer owes)."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_entry_customer", "customer_id", "business_id", "id"),
        Index("ix_ledger_entry_customer_created", "customer_id", "business_id", "created_at"),
        Index(
            "ix_ledger_entry_sale",
            "sale_id",
            sqlite_where=text("sale_id IS NOT NULL"),
            postgresql_where=text("sale_id IS NOT NULL"),
        ),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"))
    type: Mapped[str] = mapped_column(String(6))  # credit | debit
    kind: Mapped[str] = mapped_column(String(10))  # sale | payment | adjust | reversal | move
    amount: Mapped[int]  # minor units, >= 0 (a move marker is 0)
    balance_after: Mapped[int]  # signed; negative = owes
    description: Mapped[str] = mapped_column(String(255), default="")
    # What it refers to: the sale's id for a sale or its reversal, a payment's reference as typed.
    reference_id: Mapped[str] = mapped_column(String(64), default="")
    sale_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sale.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CardProgram(db.Model):
    """A stamp-card program ("Blow-dry card": 10 stamps, reward "Free blow-dry", 1 welcome stamp)."""

    __tablename__ = "card_program"
    __table_args__ = (
        Index("ix_card_program_business_name", "business_id", "name", unique=True),
        CheckConstraint("stamps_required > 0", name="stamps_required_positive"),
        CheckConstraint("welcome_stamps >= 0", name="welcome_stamps_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    name: Mapped[str] = mapped_column(String(80))
    stamps_required: Mapped[int] = mapped_column(default=10)
    reward: Mapped[str] = mapped_column(String(120), default="")
    welcome_stamps: Mapped[int] = mapped_column(default=0)
    # Completing a booking adds a stamp to the customer's active card of this program.
    stamp_on_complete: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CustomerCard(db.Model):
    """A customer's card in a program: a short typeable code with a check character (unique in the
    business, shown as a QR code), the stamps on it now (the sum of its stamp rows) and the rewards
    redeemed."""

    __tablename__ = "customer_card"
    __table_args__ = (
        Index("ix_customer_card_business_code", "business_id", "code", unique=True),
        Index("ix_customer_card_customer", "customer_id", "business_id", "id"),
        CheckConstraint("stamps >= 0", name="stamps_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"))
    program_id: Mapped[int] = mapped_column(ForeignKey("card_program.id"))
    code: Mapped[str] = mapped_column(String(16))
    stamps: Mapped[int] = mapped_column(default=0)
    rewards_redeemed: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    program: Mapped[CardProgram] = relationship(lazy="joined")


class CardStamp(db.Model):
    """One movement of a card's stamps (signed), with the stamps after it: welcome stamps, a stamp
    (by hand or from a completed booking), a reward redeemed (minus the stamps it took)."""

    __tablename__ = "card_stamp"
    __table_args__ = (
        Index("ix_card_stamp_card", "card_id", "id"),
        Index("ix_card_stamp_customer", "customer_id", "business_id", "id"),
        Index(
            "ix_card_stamp_booking",
            "booking_id",
            sqlite_where=text("booking_id IS NOT NULL"),
            postgresql_where=text("booking_id IS NOT NULL"),
        ),
        CheckConstraint("stamps_after >= 0", name="stamps_after_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("customer_card.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"))
    kind: Mapped[str] = mapped_column(String(10))  # welcome | stamp | redeem | move
    stamps: Mapped[int]  # signed
    stamps_after: Mapped[int]
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("booking.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxMessage(db.Model):
    """An email the app sent or would send: kept for the owner to read when no SMTP server is set
    (development), and as the record of what went out when one is."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_business_created", "business_id", "created_at"),
        Index(
            "ix_outbox_message_customer",
            "customer_id",
            sqlite_where=text("customer_id IS NOT NULL"),
            postgresql_where=text("customer_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"))
    to_address: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: only in the outbox
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
