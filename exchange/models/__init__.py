"""Models hold fields, constraints and small predicates; state changes live in services."""

from .audit import AuditChainHead, AuditEvent
from .catalog import CatalogGeneration, Dataset, DatasetVersion, Listing, Offer, QualityReport
from .delivery import Delivery, DownloadLink, SigningKey
from .disputes import Dispute, Notification
from .lineage import LineageStep, RevenueShare, VersionLineage
from .orgs import AgeRecipient, ApiKey, Membership, Organization
from .revisions import ListingRevision
from .sharing import SharingToken
from .trading import (
    AccessRequest,
    Account,
    Contract,
    IdempotencyRecord,
    LedgerEntry,
    LedgerTransfer,
)
from .transparency import AuditCheckpoint, AuditTreeNode
from .webhooks import WebhookAttempt, WebhookEndpoint, WebhookMessage

__all__ = [
    "AccessRequest",
    "AgeRecipient",
    "Account",
    "CatalogGeneration",
    "Contract",
    "IdempotencyRecord",
    "LedgerEntry",
    "LedgerTransfer",
    "LineageStep",
    "RevenueShare",
    "VersionLineage",
    "ListingRevision",
    "ApiKey",
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditTreeNode",
    "Dataset",
    "Delivery",
    "Dispute",
    "Notification",
    "DownloadLink",
    "DatasetVersion",
    "Listing",
    "Membership",
    "Offer",
    "Organization",
    "QualityReport",
    "SharingToken",
    "SigningKey",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WebhookMessage",
]
