"""Datasets, their immutable versions and quality reports, listings and offers."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .orgs import Organization


class Category(models.TextChoices):
    SPEECH = "speech", "Speech & audio"
    VISION = "vision", "Vision & video"
    TEXT = "text", "Text & NLP"
    MANUFACTURING = "manufacturing", "Manufacturing"
    FINANCE = "finance", "Finance"
    TRANSPORT = "transport", "Transport & logistics"
    HEALTH = "health", "Health"
    OTHER = "other", "Other"


class Dataset(models.Model):
    class Kind(models.TextChoices):
        LABELLED = "labelled", "Labelled"
        CLEANED = "cleaned", "Cleaned"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="datasets")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=32, choices=Category.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    tags = models.JSONField(default=list, blank=True)
    # Frictionless Table Schema with the extensions labelField, labels, inputFields, personalData.
    schema = models.JSONField(default=dict, blank=True)
    # Frictionless CSV Dialect the seller declares for what sniffing cannot know (delimiter,
    # header, headerRows, ...; workers/quality/dialect.py); {} = sniff everything.
    dialect = models.JSONField(default=dict, blank=True)
    contains_personal_data = models.BooleanField(default=False)
    legal_basis = models.TextField(blank=True)
    # The seller's Responsible-AI declaration (Croissant RAI), optional; the fields, labels and
    # length limits are defined once in workers.metadata.model.RAI_FIELDS.
    rai_data_collection = models.TextField(blank=True)
    rai_data_annotation_protocol = models.TextField(blank=True)
    rai_data_annotation_platform = models.TextField(blank=True)
    rai_annotator_demographics = models.TextField(blank=True)
    rai_machine_annotation_tools = models.TextField(blank=True)
    rai_personal_sensitive_information = models.TextField(blank=True)
    rai_data_use_cases = models.TextField(blank=True)
    rai_data_limitations = models.TextField(blank=True)
    rai_data_biases = models.TextField(blank=True)
    rai_annotations_per_item = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


def version_upload_path(instance: "DatasetVersion", filename: str) -> str:
    return f"datasets/{instance.dataset_id}/v{instance.number}/{instance.id}.{instance.format}"


class DatasetVersion(models.Model):
    """An immutable uploaded file. Its bytes never change after upload: the SHA-256 proves it."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        TSV = "tsv", "TSV"
        JSONL = "jsonl", "JSON Lines"
        PARQUET = "parquet", "Parquet"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        CHECKING = "checking", "Checking"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to=version_upload_path, max_length=300)
    original_filename = models.CharField(max_length=255)
    format = models.CharField(max_length=16, choices=Format.choices)
    byte_size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    row_count = models.PositiveBigIntegerField(null=True, blank=True)
    changelog = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    # Progress of the running quality check, written by the worker.
    check_rows_seen = models.PositiveBigIntegerField(default=0)
    check_bytes_seen = models.PositiveBigIntegerField(default=0)
    check_percent = models.FloatField(default=0)
    check_started_at = models.DateTimeField(null=True, blank=True)
    check_heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Identifies the attempt that holds the claim; only it may store the result.
    check_token = models.CharField(max_length=32, blank=True)
    check_attempts = models.PositiveIntegerField(default=0)
    check_error = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "-number"]
        constraints = [models.UniqueConstraint(fields=["dataset", "number"], name="version_number_unique")]

    def __str__(self) -> str:
        return f"{self.dataset} v{self.number}"


class QualityReport(models.Model):
    """The one report of a version's quality check (the worker stores exactly one)."""

    version = models.OneToOneField(DatasetVersion, on_delete=models.CASCADE, related_name="quality_report")
    report = models.JSONField()
    score = models.PositiveSmallIntegerField()
    grade = models.CharField(max_length=1)
    passed = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Quality of {self.version}: {self.grade} ({self.score})"


class Listing(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        PUBLISHED = "published", "Published"
        REJECTED = "rejected", "Rejected"
        SUSPENDED = "suspended", "Suspended"
        RETIRED = "retired", "Retired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="listings")
    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="listings")
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    review_note = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # The seller changed its text after staff published it (services.listings.listing_update);
    # staff see it in their queue and clear it by reviewing, or suspend the listing.
    edited_since_review = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The flat catalog columns: copies kept by services.catalog_flat.listings_refresh_flat (on
    # publish, offer change, review, retire, dataset edit, quality report) so list pages read
    # one narrow row per listing and never the offers or the report JSON.
    best_price_fen = models.PositiveBigIntegerField(null=True, blank=True)
    quality_score = models.PositiveSmallIntegerField(null=True, blank=True)
    quality_grade = models.CharField(max_length=1, blank=True)
    row_count = models.PositiveBigIntegerField(null=True, blank=True)
    category = models.CharField(max_length=32, choices=Category.choices, blank=True)
    kind = models.CharField(max_length=16, choices=Dataset.Kind.choices, blank=True)
    blurb = models.CharField(max_length=200, blank=True)
    # Lower-cased title, summary, dataset title/description/tags and seller name (trigram/bigram indexed on PostgreSQL).
    search_text = models.TextField(blank=True)
    # Set when a delivered copy failed its quality guarantee on re-check: staff should look.
    flagged_at = models.DateTimeField(null=True, blank=True)
    flag_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["-published_at", "-id"], name="listing_pub_published",
                         condition=models.Q(status="published")),
            models.Index(fields=["best_price_fen", "id"], name="listing_pub_price", condition=models.Q(status="published")),
            models.Index(fields=["quality_score", "id"], name="listing_pub_score", condition=models.Q(status="published")),
            models.Index(fields=["title", "id"], name="listing_pub_title", condition=models.Q(status="published")),
            models.Index(fields=["category", "kind"], name="listing_pub_facets", condition=models.Q(status="published")),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def min_price_fen(self) -> int | None:
        """The lowest active offer's price (the stored best price)."""
        return self.best_price_fen

    @property
    def seller(self) -> Organization:
        return self.dataset.owner


class Offer(models.Model):
    """A price and licence for a listing. Prices are integer fen (1 CNY = 100 fen), never floats."""

    class AccessMode(models.TextChoices):
        INSTANT = "instant", "Instant"
        APPROVAL = "approval", "Seller approval"

    class Kind(models.TextChoices):
        ONE_OFF = "one_off", "One-off (the version listed at purchase)"
        SUBSCRIPTION = "subscription", "Subscription (every version published during the term)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="offers")
    name = models.CharField(max_length=100)
    price_fen = models.PositiveBigIntegerField(validators=[MinValueValidator(1)])
    currency = models.CharField(max_length=3, default="CNY")
    access_mode = models.CharField(max_length=16, choices=AccessMode.choices, default=AccessMode.APPROVAL)
    # A subscription delivers every version published to the listing during term_days (services.subscriptions).
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ONE_OFF)
    purpose_restriction = models.TextField(blank=True)
    term_days = models.PositiveIntegerField(default=365, validators=[MinValueValidator(1), MaxValueValidator(3650)])
    download_limit = models.PositiveIntegerField(default=5, validators=[MinValueValidator(1), MaxValueValidator(1000)])
    redistribution = models.BooleanField(default=False)
    # Days the buyer has to accept or dispute a ready delivery before escrow is released (0: at once).
    acceptance_days = models.PositiveSmallIntegerField(default=3, validators=[MaxValueValidator(30)])
    # The quality guarantee (workers.quality.guarantee.Guarantee as a dict), or null.
    guarantee = models.JSONField(null=True, blank=True)
    # Per-buyer fingerprint (SPEC §12): each buyer's copy carries marks keyed by the contract,
    # within the bound below (docs/fingerprints.md); the seller chooses it per offer.
    fingerprint = models.BooleanField(default=False)
    fingerprint_gamma = models.PositiveSmallIntegerField(
        default=20, validators=[MinValueValidator(5), MaxValueValidator(1000)],
        help_text="At most 1 row in this many changes.")
    fingerprint_exclude = models.JSONField(default=list, blank=True)  # column names never marked
    fingerprint_text = models.BooleanField(default=False)  # trailing-space variants of text allowed
    # Lineage (services.lineage): a licensee may declare versions derived from this data, and
    # pays this share (basis points of its proceeds after commission) of each sale of them.
    derivatives_allowed = models.BooleanField(default=False)
    derivative_share_bp = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["price_fen"]
        constraints = [
            models.CheckConstraint(condition=models.Q(acceptance_days__lte=30), name="offer_acceptance_days_at_most_30"),
            models.CheckConstraint(condition=models.Q(price_fen__gte=1), name="offer_price_positive"),
            models.CheckConstraint(condition=models.Q(currency="CNY"), name="offer_currency_cny"),
            models.CheckConstraint(condition=models.Q(derivative_share_bp__lte=10000), name="offer_share_at_most_all"),
        ]

    def __str__(self) -> str:
        from exchange.money import format_yuan

        return f"{self.name}: {format_yuan(self.price_fen)}"

    @property
    def is_subscription(self) -> bool:
        return self.kind == self.Kind.SUBSCRIPTION

    def fingerprint_options(self):
        """The pure scheme's options, or None when the offer delivers unmarked copies."""
        if not self.fingerprint:
            return None
        from workers.fingerprint import FingerprintOptions

        return FingerprintOptions(gamma=int(self.fingerprint_gamma), exclude=tuple(self.fingerprint_exclude or ()),
                                  text_whitespace=bool(self.fingerprint_text))

    @property
    def derivative_share_percent(self) -> str:
        """The revenue share in words, e.g. "12.5%"."""
        return f"{self.derivative_share_bp / 100:g}%"

    @property
    def fingerprint_bound(self) -> str:
        """The distortion bound in words ("" without a fingerprint), as listing and licence state it."""
        from workers.fingerprint import bound_text

        options = self.fingerprint_options()
        return bound_text(options) if options is not None else ""


class CatalogGeneration(models.Model):
    """One row whose value grows whenever the catalog or the market changes (publish, offer, trade).

    Cached counts, facets and market statistics are keyed on it, so every process (web workers,
    Celery) sees a change at once whatever the cache backend; stale entries simply expire.
    """

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Catalog generation {self.value}"
