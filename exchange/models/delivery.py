"""Signed deliveries (SPEC §5): one package per paid contract, the exchange's signing keys,
and short-lived download links.

Fields, constraints and small predicates only; every transition lives in
``exchange.services.delivery`` and ``exchange.services.signing``.
"""

import hashlib
import uuid

from django.db import models
from django.db.models import Q

from .catalog import DatasetVersion
from .orgs import Organization
from .trading import Contract


class SigningKey(models.Model):
    """An Ed25519 key the exchange signs manifests with.

    The private key is stored only as a PKCS#8 PEM encrypted with the passphrase from
    ``SIGNING_KEY_PASSPHRASE`` (never in the clear). ``kid`` is the first 16 hex
    characters of SHA-256 of the raw public key. At most one key per purpose is active
    (delivery manifests, audit-log checkpoints); retired keys stay published so what they
    signed still verifies.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active (signs new packages)"
        RETIRED = "retired", "Retired (verifies old packages only)"

    class Purpose(models.TextChoices):
        DELIVERY = "delivery", "Delivery manifests"
        AUDIT_LOG = "audit_log", "Audit log checkpoints"

    kid = models.CharField("key id", max_length=16, unique=True)
    # One key signs one kind of document, so a rotation of one never touches the other.
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.DELIVERY)
    public_key_pem = models.TextField()
    private_key_pem_encrypted = models.TextField(editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["purpose"], condition=Q(status="active"), name="signing_key_one_active"),
            models.CheckConstraint(condition=Q(status="active", retired_at__isnull=True)
                                   | Q(status="retired", retired_at__isnull=False),
                                   name="signing_key_retired_at_matches_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kid} ({self.status})"


class Delivery(models.Model):
    """The buyer's signed package of one dataset version under one contract.

    Every contract has one *initial* delivery (made on payment, ``Contract.delivery``); a
    subscription contract also gets one *update* delivery per version published to its listing
    during the term (``services.subscriptions``), unique per (contract, version). Only the
    initial delivery moves money (acceptance window, settlement, refund on failure).

    ``queued → building → ready | failed``; later ``expired`` (licence term over) or
    ``revoked`` (staff). A worker claims a delivery by a conditional update that sets
    ``claim_token`` and refreshes ``heartbeat_at``; only the holder of the claim may
    store the result, so a retried or raced build stores one package.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="deliveries")
    # The version this package carries (the contract's own for the initial delivery).
    dataset_version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="deliveries")
    initial = models.BooleanField(default=True)  # False: a subscription's update delivery
    # An update delivery: the version the subscriber had before, which the included diff starts from.
    diff_from = models.ForeignKey(DatasetVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # Claim (see exchange.services.delivery.delivery_claim)
    claim_token = models.CharField(max_length=32, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField()
    # Progress: bytes of the source streamed into the package so far.
    bytes_done = models.PositiveBigIntegerField(default=0)
    bytes_total = models.PositiveBigIntegerField(default=0)
    # The package, once ready
    package_name = models.CharField(max_length=500, blank=True)
    package_size = models.PositiveBigIntegerField(null=True, blank=True)
    package_sha256 = models.CharField(max_length=64, blank=True)
    data_path = models.CharField(max_length=300, blank=True)
    manifest = models.JSONField(null=True, blank=True)
    key_id = models.CharField(max_length=16, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloads_used = models.PositiveIntegerField(default=0)
    # The buyer's Parquet copy of the data file (same rows), served over Delta Sharing (SPEC §10).
    # Empty ``parquet_name`` with a ``parquet_error``: the table could not be converted; the ZIP stands.
    parquet_name = models.CharField(max_length=500, blank=True)
    parquet_size = models.PositiveBigIntegerField(null=True, blank=True)
    parquet_sha256 = models.CharField(max_length=64, blank=True)
    parquet_rows = models.PositiveBigIntegerField(null=True, blank=True)
    parquet_schema = models.TextField(blank=True)  # Delta Lake schemaString of the Parquet file
    parquet_error = models.TextField(blank=True)
    # {"scheme", "bound", "plan", "marks"} of a fingerprinted copy (never the key), else null.
    fingerprint = models.JSONField(null=True, blank=True)
    # The age recipients the stored package (….zip.age) is encrypted to; empty: a plain ZIP.
    # package_sha256 is then the ciphertext's SHA-256.
    encrypted_to = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    revoke_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)  # failed, expired or revoked

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["status", "queued_at"]), models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(status="ready") | (Q(package_size__isnull=False) & ~Q(package_name="")),
                                   name="delivery_ready_has_package"),
            models.UniqueConstraint(fields=["contract", "dataset_version"], name="delivery_once_per_contract_version"),
            models.UniqueConstraint(fields=["contract"], condition=Q(initial=True), name="delivery_one_initial"),
            models.CheckConstraint(condition=Q(initial=True, diff_from__isnull=True)
                                   | Q(initial=False, diff_from__isnull=False), name="delivery_update_has_diff_from"),
        ]

    def __str__(self) -> str:
        return f"Delivery {str(self.pk)[:8]} ({self.status})"

    @property
    def etag(self) -> str:
        """A strong validator for downloads: unique per stored package (one package per delivery)."""
        tag = self.package_sha256 or hashlib.sha256(self.package_name.encode()).hexdigest()[:32]
        return f'"{tag}"'

    @property
    def percent(self) -> float:
        if self.status in (self.Status.READY, self.Status.EXPIRED, self.Status.REVOKED) and self.package_size:
            return 100.0
        if not self.bytes_total:
            return 0.0
        return min(100.0, 100.0 * self.bytes_done / self.bytes_total)

    @property
    def downloads_left(self) -> int:
        return max(0, self.contract.download_limit - self.downloads_used)

    @property
    def is_downloadable(self) -> bool:
        return self.status == self.Status.READY

    @property
    def is_shareable(self) -> bool:
        """Readable over Delta Sharing: ready, with a Parquet copy."""
        return self.status == self.Status.READY and bool(self.parquet_name)


class DownloadLink(models.Model):
    """A short-lived link to download one delivery, bound to the buyer's firm.

    The link carries a 256-bit random token; only its SHA-256 is stored. A link counts
    as one download against the licence limit at its first use; further requests through
    the same link (resuming with HTTP Range) until it expires count no more.

    ``package`` links (``/d/<token>``) need the buyer firm's session or key besides the token;
    ``parquet`` links are the self-authorising file URLs of a Delta Sharing query, bound to
    the sharing token that asked for them (its revocation ends them too).
    """

    class Kind(models.TextChoices):
        PACKAGE = "package", "Signed package (ZIP)"
        PARQUET = "parquet", "Parquet copy (Delta Sharing)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="links")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PACKAGE)
    sharing_token = models.ForeignKey("exchange.SharingToken", null=True, blank=True, on_delete=models.CASCADE,
                                      related_name="file_links")
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    first_used_at = models.DateTimeField(null=True, blank=True)
    requests = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Link {str(self.pk)[:8]} for {self.delivery}"
