"""Request and response models of the money endpoints: sales, the store-credit ledger, points and stamp cards.

Amounts are integer minor units (1250 for £12.50): a body's `total` is a JSON integer, so "12.50",
12.345, 1e9999 and "abc" are refused by type (strict mode) and -5, 0 and 99999999999999 by its bounds,
each on its field, before any service runs. The rules behind the bounds stay in the services
(webapp/money, webapp/loyalty): the schema only keeps what cannot be an amount, a count or an id out.
"""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)
from pydantic_core import PydanticCustomError

from webapp.api.schemas import Day, Lax, Pagination, Strict, Text
from webapp.loyalty.cards import MAX_STAMPS_AT_ONCE
from webapp.models.money import LEDGER_TYPES
from webapp.money.amounts import MAXIMUM
from webapp.money.points import MAX_POINTS

RowId = Annotated[int, Field(ge=1, lt=2**31)]


def Whole(low: int, high: int, *, wrong: str, low_message: str, high_message: str):  # noqa: N802 (a type)
    """A JSON integer in low..high (documented as such), refused with a message saying what to send."""

    def check(value, handler: ValidatorFunctionWrapHandler):
        try:
            return handler(value)
        except ValidationError as e:
            kind = e.errors()[0]["type"]
            message = (
                low_message
                if kind.startswith("greater_than")
                else high_message
                if kind.startswith("less_than")
                else wrong
            )
            raise PydanticCustomError("number", message) from None

    return Annotated[int, Field(ge=low, le=high), WrapValidator(check)]


class PageQuery(Lax):
    """Which page of a list."""

    page: int = Field(1, ge=1, le=10_000)
    limit: int = Field(30, ge=1, le=100)


# --- sales ---------------------------------------------------------------------------------------


class SaleWrite(Strict):
    """A sale to record: who, how much (minor units), optionally its receipt number (generated as
    REC-YYYYMMDD-NNN when absent), whether it goes on the customer's account, and the booking it paid for."""

    customer_id: uuid.UUID
    total: Whole(
        1,
        MAXIMUM,
        wrong="Send the total as a whole number of minor units, like 1250 for 12.50.",
        low_message="The total must be more than zero.",
        high_message=f"That total is too large: the most is {MAXIMUM} minor units.",
    ) = Field(description="Minor units, a whole number above zero (1250 for 12.50).")
    receipt_number: Text(40) | None = Field(
        None, description="Unique in the business; generated (REC-YYYYMMDD-NNN) when absent or blank."
    )
    on_account: bool = Field(False, description="Not paid now: debits the customer's store-credit ledger.")
    booking_id: uuid.UUID | None = Field(None, description="The customer's booking this sale paid for.")


class Sale(BaseModel):
    """A sale as the point of sale shows one. `status` says whether a manager voided or refunded it."""

    id: uuid.UUID
    customer_id: uuid.UUID
    receipt_number: str
    total: int = Field(description="Minor units.")
    on_account: bool
    booking_id: uuid.UUID | None
    points_earned: int
    status: Literal["completed", "voided", "refunded"]
    created_at: datetime


class SaleList(BaseModel):
    """A page of a customer's sales, newest first."""

    data: list[Sale]
    pagination: Pagination


# --- the store-credit ledger ---------------------------------------------------------------------


class LedgerQuery(PageQuery):
    """The entries of a range of days (inclusive, in the business's timezone), and the page."""

    from_: Day | None = Field(
        None, validation_alias=AliasChoices("from", "from_"), description="First day, YYYY-MM-DD."
    )
    to: Day | None = Field(None, description="Last day, YYYY-MM-DD.")
    limit: int = Field(100, ge=1, le=500)

    @field_validator("to")
    @classmethod
    def to_not_before_from(cls, value, info: ValidationInfo):
        """A range that ends before it starts holds nothing a caller meant to ask for."""
        start = info.data.get("from_")
        if value is not None and start is not None and value < start:
            raise ValueError("must be on or after `from`")
        return value


class LedgerEntry(BaseModel):
    """One store-credit movement: a credit (payment received) or a debit (an on-account sale) of a
    positive amount, with the balance after it (negative: the customer owes)."""

    id: int
    type: Literal[LEDGER_TYPES]  # type: ignore[valid-type]
    amount: int = Field(description="Minor units, never negative.")
    balance_after: int = Field(description="Minor units; negative when the customer owes.")
    description: str
    reference_id: str = Field(description="The sale's id for a sale or its reversal; a payment's reference.")
    created_at: datetime


class Ledger(BaseModel):
    """A page of a customer's ledger entries, oldest first, and the balance now."""

    data: list[LedgerEntry]
    pagination: Pagination
    balance: int = Field(description="The customer's ledger balance now, minor units (negative = owes).")


# --- points --------------------------------------------------------------------------------------


class Redeem(Strict):
    """Points to spend for a discount, optionally against one of the customer's sales."""

    points: Whole(
        1,
        MAX_POINTS,
        wrong="Send the points as a whole number, like 200.",
        low_message="Redeem at least 1 point.",
        high_message="That is more points than anyone holds; check the number.",
    )
    sale_id: uuid.UUID | None = Field(None, description="One of this customer's sales.")


class Redemption(BaseModel):
    """What a redemption did, as the point of sale answers it."""

    redeemed: int = Field(description="Points spent.")
    discount_amount: int = Field(description="The discount they bought, minor units.")
    remaining_points: int


# --- stamp cards ---------------------------------------------------------------------------------


class Card(BaseModel):
    """A customer's stamp card."""

    id: int
    program_id: int
    program: str = Field(description="The program's name.")
    code: str = Field(description="The card's typeable code (with its check character).")
    stamps: int
    stamps_needed: int
    rewards_available: int = Field(description="Full cards' worth of rewards ready to redeem.")
    rewards_redeemed: int
    url: str = Field(description="The card's page: what its QR code opens.")


class CardList(BaseModel):
    """A customer's cards, oldest first."""

    data: list[Card]
    pagination: Pagination


class Enrol(Strict):
    """The program to enrol the customer in (its welcome stamps are applied at once)."""

    program_id: RowId


class Stamps(Strict):
    """How many stamps to add."""

    count: Whole(
        1,
        MAX_STAMPS_AT_ONCE,
        wrong="Send the count as a whole number, like 1.",
        low_message=f"Add between 1 and {MAX_STAMPS_AT_ONCE} stamps at a time.",
        high_message=f"Add between 1 and {MAX_STAMPS_AT_ONCE} stamps at a time.",
    ) = 1
