"""Models hold fields, constraints and small predicates; state changes live in services."""

from .audit import AuditEvent
from .catalog import Dataset, DatasetVersion, Listing, Offer, QualityReport
from .delivery import Delivery, DownloadLink, SigningKey
from .orgs import ApiKey, Membership, Organization
from .trading import (
    AccessRequest,
    Account,
    Contract,
    IdempotencyRecord,
    LedgerEntry,
    LedgerTransfer,
)
from .webhooks import WebhookAttempt, WebhookEndpoint, WebhookMessage

__all__ = [
    "AccessRequest",
    "Account",
    "Contract",
    "IdempotencyRecord",
    "LedgerEntry",
    "LedgerTransfer",
    "ApiKey",
    "AuditEvent",
    "Dataset",
    "Delivery",
    "DownloadLink",
    "DatasetVersion",
    "Listing",
    "Membership",
    "Offer",
    "Organization",
    "QualityReport",
    "SigningKey",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WebhookMessage",
]
