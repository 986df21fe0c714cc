"""The API's request and response models, declared once: they validate input and make the OpenAPI document.

Why pydantic v2: its JSON Schema is draft 2020-12, which is OpenAPI 3.1's own dialect, so a model's
schema goes into the document as it is; `validation_alias` with `AliasChoices` accepts the source APIs'
field names (`dob`, `labels`, `company_name`, …) beside ours on one field; strict mode refuses the
coercions that hide client bugs ("1" for a number, 1 for a string, an array where a string goes); and it
parses JSON itself (a body that is not an object, a number like 1e400 where a string goes, a bad date:
each an error on its field).

Unknown fields in a body are ignored (as the source APIs do), never stored.
"""

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from webapp.customers.fields import EARLIEST_BIRTH_DATE
from webapp.models.customer import BLACKLIST_LEVELS, SOURCES
from webapp.search.criteria import MAX_LIMIT, MAX_PAGE, MAX_QUERY

CONTROL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\x7f"}


def no_control_characters(value: str) -> str:
    """Refuse NUL and the other control characters no text column should hold."""
    if any(ch in CONTROL for ch in value):
        raise ValueError("must not contain control characters (such as NUL)")
    return value


def Text(max_length: int, **kw):  # noqa: N802 (reads as a type)
    """A string of at most `max_length` characters without control characters."""
    return Annotated[str, Field(max_length=max_length, **kw), AfterValidator(no_control_characters)]


class Strict(BaseModel):
    """Base of request bodies: strict JSON types, names or their aliases, unknown fields ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", validate_by_name=True, validate_by_alias=True)


class Lax(BaseModel):
    """Base of query strings: every value arrives as text, so numbers and dates are read from it."""

    model_config = ConfigDict(extra="ignore", validate_by_name=True, validate_by_alias=True)


# --- customers ---------------------------------------------------------------------------------------


class CustomerWrite(Strict):
    """The fields a create or an update may give; an update changes only those given (tags replaced whole)."""

    id: uuid.UUID | None = Field(None, description="On an update, must be the path's id.")
    first_name: Text(255) | None = None
    last_name: Text(255) | None = None
    name: Text(511) | None = Field(
        None, description="One string, split into first_name (first word) and last_name (the rest)."
    )
    email: Text(255) | None = None
    phone: Text(40) | None = Field(
        None, description="Stored as E.164; national numbers in the business's region."
    )
    date_of_birth: date | None = Field(
        None,
        validation_alias=AliasChoices("date_of_birth", "dob", "birthday"),
        description="YYYY-MM-DD (aliases: dob, birthday).",
    )
    company: Text(255) | None = Field(None, validation_alias=AliasChoices("company", "company_name"))
    address: Text(1000) | None = None
    notes: Text(1000) | None = None
    source: Literal[SOURCES] | None = None  # type: ignore[valid-type]
    custom_field_value: Text(255) | None = None
    tags: list[Text(60, min_length=1)] | None = Field(
        None,
        max_length=50,
        validation_alias=AliasChoices("tags", "labels"),
        description="Tag names; a name the business does not have yet is created (alias: labels).",
    )
    location_ids: list[Annotated[int, Field(ge=1, lt=2**31)]] | None = Field(
        None, max_length=50, validation_alias=AliasChoices("location_ids", "associated_venues")
    )
    marketing_preferences: dict[Text(12), bool] | None = Field(
        None, description="{preference id: true (opted in) | false (opted out)}."
    )
    marketing_preference_ids: list[Annotated[int, Field(ge=1, lt=2**31)]] | None = Field(
        None, max_length=50, description="Preference ids to opt in to."
    )
    card_id: Annotated[int, Field(ge=1, lt=2**31)] | None = Field(
        None, description="On create (POST /customers): enrol in this stamp-card program (its id)."
    )
    send_card_links: bool = Field(False, description="On create, with card_id: email the card's link.")


class Customer(BaseModel):
    """A customer as every API answer shows one."""

    id: uuid.UUID
    first_name: str
    last_name: str
    full_name: str
    email: str | None
    phone: str | None = Field(description="E.164")
    date_of_birth: date | None
    company: str
    address: str
    notes: str
    tags: list[str]
    source: str
    status: Literal["active", "inactive", "lead"]
    avatar_url: str | None
    custom_field_value: str
    location_ids: list[int]
    marketing_preferences: dict[str, bool]
    is_dummy: bool
    is_blacklisted: bool
    blacklist_reason: str
    blacklist_level: Literal[BLACKLIST_LEVELS] | None  # type: ignore[valid-type]
    total_bookings: int
    total_cancellations: int
    no_shows: int
    loyalty_points: int
    total_spent: int = Field(description="Minor units.")
    total_orders: int
    ledger_balance: int = Field(description="Minor units; negative when the customer owes.")
    cards: list[dict]
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Also the ETag; send it back in If-Match.")


class Pagination(BaseModel):
    """Where a page is in its list."""

    page: int
    limit: int
    total: int = Field(description="Exact up to a cap; see total_exact.")
    total_exact: bool
    has_more: bool


class CustomerList(BaseModel):
    """A page of customers."""

    data: list[Customer]
    pagination: Pagination


class Removed(BaseModel):
    """What a delete did: `deleted`, or `anonymized` for a customer with history."""

    id: uuid.UUID
    result: Literal["deleted", "anonymized"]


Day = Annotated[date, Field(ge=EARLIEST_BIRTH_DATE, le=date(2200, 12, 31))]
Ids = list[Annotated[int, Field(ge=1, lt=2**31)]]


class CustomerQuery(Lax):
    """The list's filters, by the restaurant API's names; lists are comma-separated or repeated.
    Unknown arguments are ignored."""

    query: Text(MAX_QUERY) | None = Field(
        None,
        validation_alias=AliasChoices("query", "search", "q"),
        description="Name, email, phone digits or company (aliases: search, q).",
    )
    associated_venues: Ids = Field(default_factory=list, max_length=50, description="Location ids (any of).")
    booking_date: Day | None = None
    booking_date_from: Day | None = None
    booking_date_to: Day | None = None
    created_date: Day | None = None
    created_date_from: Day | None = None
    created_date_to: Day | None = None
    dob_month: list[Annotated[int, Field(ge=1, le=12)]] = Field(default_factory=list, max_length=12)
    email: list[Text(255)] = Field(default_factory=list, max_length=50)
    full_name: Text(255) | None = None
    labels: list[Text(60)] = Field(default_factory=list, max_length=50, description="Tag names (any of).")
    last_updated: Day | None = None
    last_updated_from: Day | None = None
    last_updated_to: Day | None = None
    opted_in: Ids = Field(default_factory=list, max_length=50, description="Preference ids (any of).")
    opted_in_date: Day | None = None
    opted_in_date_from: Day | None = None
    opted_in_date_to: Day | None = None
    opted_out: Ids = Field(default_factory=list, max_length=50)
    opted_out_date: Day | None = None
    opted_out_date_from: Day | None = None
    opted_out_date_to: Day | None = None
    sort: Text(40) | None = Field(
        None,
        description="name, created, updated, last_visit, total_bookings, total_spent, points "
        "(or created_date, last_updated, full_name, loyalty_points); '-' first for descending.",
    )
    page: int = Field(1, ge=1, le=MAX_PAGE)
    limit: int = Field(30, ge=1, le=MAX_LIMIT)

    @field_validator(
        *(f"{n}{s}" for n in ("opted_in", "opted_out") for s in ("_date", "_date_from", "_date_to"))
    )
    @classmethod
    def consent_dates_need_their_preferences(cls, value, info: ValidationInfo):
        """The opted-in (out) dates narrow `opted_in` (`opted_out`): alone they would mean nothing."""
        preferences = info.field_name.split("_date")[0]
        if value is not None and not info.data.get(preferences):
            raise ValueError(f"needs {preferences} (preference ids) too")
        return value


# --- errors --------------------------------------------------------------------------------------


class Problem(BaseModel):
    """An error, as RFC 9457 problem+json."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: dict[str, list[str]] | None = Field(None, description="For 422: {field: [messages]}.")
