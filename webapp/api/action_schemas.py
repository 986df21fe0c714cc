"""Request and response models of upsert, transfer and the blacklist (beside schemas.py's customer models)."""

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, Field

from webapp.api.schemas import Customer, CustomerWrite, Lax, Strict, Text
from webapp.models.customer import BLACKLIST_LEVELS


class Upsert(CustomerWrite):
    """The CRM's upsert: found by email or phone, else created. `id` is not used."""

    added_tags: list[Text(60, min_length=1)] | None = Field(
        None, max_length=50, description="Tag names added to those the customer has (tags replaces them)."
    )
    location_id: Annotated[int, Field(ge=1, lt=2**31)] | None = Field(
        None, description="A location the customer is linked to (added to location_ids)."
    )
    do_not_update: bool = Field(
        False, description="Find without changing: a found customer is left as it is."
    )


class UpsertResult(BaseModel):
    """What an upsert did: `created` true (201) for a new customer, false (200) for a found one."""

    created: bool
    customer: Customer


class Transfer(Strict):
    """The booking system's transfer: everything of `source_id` moves to `target_id`."""

    source_id: uuid.UUID
    target_id: uuid.UUID


class Transferred(BaseModel):
    """What a transfer moved (rows by kind), and the target as it is now."""

    source_id: uuid.UUID
    target_id: uuid.UUID
    merge_event_id: int = Field(description="The merge in the target's history; staff can undo it there.")
    moved: dict[str, int]
    points_moved: int
    target: Customer


class BlacklistPut(Strict):
    """A restriction: why (required), how strict, until when."""

    id: uuid.UUID | None = Field(None, description="Must be the path's id when given.")
    reason: Text(1000) = Field(validation_alias=AliasChoices("reason", "blacklist_reason"))
    level: Literal[BLACKLIST_LEVELS] = "block"  # type: ignore[valid-type]
    expires_on: Annotated[date, Field(le=date(2200, 12, 31))] | None = Field(
        None, description="YYYY-MM-DD, in the future; none: until lifted."
    )


class BlacklistLift(Strict):
    """Why the restriction is lifted (required: in this body or as `?reason=`)."""

    reason: Text(1000) | None = None


class BlacklistLiftQuery(Lax):
    """`reason` in the query string, for clients that send no body with DELETE (short: a URL's length is
    bounded by the server; a longer reason goes in the body)."""

    reason: Text(200) | None = None


class BlacklistQuery(Lax):
    """The blacklisted list: which restrictions, and the page."""

    level: Literal["block", "warn", "lapsed"] | None = Field(
        None, description="block or warn (live restrictions of that level), lapsed (expired ones)."
    )
    page: int = Field(1, ge=1, le=10_000)
    limit: int = Field(30, ge=1, le=100)
