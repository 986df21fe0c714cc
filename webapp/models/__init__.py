"""All models, imported here so metadata and migrations see every table."""

from webapp.database import utcnow
from webapp.models import search_keys  # noqa: F401,E402  (registers the search-key mapper event)
from webapp.models.api import ApiKey, IdempotencyRecord
from webapp.models.audit import AuditEvent
from webapp.models.booking import Booking
from webapp.models.buckets import customer_rank_bucket
from webapp.models.business import Business, Location
from webapp.models.customer import (
    Customer,
    CustomerConsent,
    MarketingPreference,
    Tag,
    customer_location,
    customer_tag,
)
from webapp.models.imports import ImportChange, ImportJob
from webapp.models.merge import (
    CustomerContactHistory,
    CustomerMatchKey,
    DismissedPair,
    DuplicateCandidate,
    DuplicateScan,
)
from webapp.models.money import (
    CardProgram,
    CardStamp,
    CustomerCard,
    LedgerEntry,
    OutboxMessage,
    PointsTransaction,
    ReceiptSequence,
    Sale,
    SaleReversal,
)
from webapp.models.staff import SignInFailure, StaffUser
from webapp.models.submission import FormSubmission

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Booking",
    "Business",
    "CardProgram",
    "CardStamp",
    "CustomerCard",
    "LedgerEntry",
    "OutboxMessage",
    "PointsTransaction",
    "ReceiptSequence",
    "Sale",
    "SaleReversal",
    "Customer",
    "CustomerContactHistory",
    "CustomerMatchKey",
    "CustomerConsent",
    "DismissedPair",
    "DuplicateCandidate",
    "DuplicateScan",
    "FormSubmission",
    "IdempotencyRecord",
    "ImportChange",
    "ImportJob",
    "Location",
    "MarketingPreference",
    "SignInFailure",
    "StaffUser",
    "Tag",
    "customer_location",
    "customer_rank_bucket",
    "customer_tag",
    "utcnow",
]
