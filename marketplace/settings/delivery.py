"""Signed deliveries: keys and secrets, packaging, download links, retention, and Delta Sharing."""

from pathlib import Path

from .api import SPECTACULAR_SETTINGS
from .core import env
from .quality import SWEEP_INTERVAL_SECONDS
from .tasks import CELERY_BEAT_SCHEDULE

# --- Delivery ---------------------------------------------------------------
# Signed per-buyer packages (SPEC §5). Private signing keys are stored only as PKCS#8 PEM
# encrypted with this passphrase; it has no default here (local/test settings set one),
# and signing or creating a key without it fails with a message naming the variable.
# SIGNING_KEY_PASSPHRASE_FILE (e.g. a mounted secret) is read when the variable is unset.
SIGNING_KEY_PASSPHRASE = env.str("SIGNING_KEY_PASSPHRASE", default="")
if not SIGNING_KEY_PASSPHRASE and env.str("SIGNING_KEY_PASSPHRASE_FILE", default=""):
    SIGNING_KEY_PASSPHRASE = Path(env.str("SIGNING_KEY_PASSPHRASE_FILE")).read_text().strip()
# Per-buyer fingerprints (SPEC §12, docs/fingerprints.md) are keyed by this secret and the
# contract: whoever holds it can find and scrub marks, so it is never stored in the database,
# a manifest or a log. No default here (local/test settings set one); production fails fast.
# FINGERPRINT_SECRET_FILE (e.g. a mounted secret) is read when the variable is unset.
FINGERPRINT_SECRET = env.str("FINGERPRINT_SECRET", default="")
if not FINGERPRINT_SECRET and env.str("FINGERPRINT_SECRET_FILE", default=""):
    FINGERPRINT_SECRET = Path(env.str("FINGERPRINT_SECRET_FILE")).read_text().strip()
# ZIP entries are STORED by default: datasets are often already compressed, and a stored
# entry is copied at disk speed; DELIVERY_DEFLATE=true trades CPU for smaller packages.
DELIVERY_DEFLATE = env.bool("DELIVERY_DEFLATE", default=False)
# Also hash the finished ZIP (shown to the buyer beside the signed manifest). It is a second
# SHA-256 over every byte and costs ~40% of build throughput on 2 cores (bench/delivery_bench.py),
# while the signed manifest and SHA256SUMS already prove every file: off by default.
DELIVERY_HASH_PACKAGE = env.bool("DELIVERY_HASH_PACKAGE", default=False)
# Packages are built in a local temporary file (None: the system's temp dir), then stored
# through STORAGES["default"]; the worker and the web process share no disk.
DELIVERY_TMP_DIR = env.str("DELIVERY_TMP_DIR", default=None)
# Packaging runs at disk speed (hundreds of MB/s); an hour covers tens of GB.
DELIVERY_BUILD_TIME_LIMIT = env.int("DELIVERY_BUILD_TIME_LIMIT", default=3600)
# A build refreshes its heartbeat this often, from a background thread (and on progress)...
DELIVERY_HEARTBEAT_SECONDS = 5
# ...so a building claim without a heartbeat this long belongs to a dead worker.
DELIVERY_STALE_SECONDS = env.int("DELIVERY_STALE_SECONDS", default=15)
# Transient failures (storage unreachable, no active key) are retried; after this many
# attempts the delivery fails for good and the buyer is refunded.
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=3)
DELIVERY_RETRY_SECONDS = env.int("DELIVERY_RETRY_SECONDS", default=30)
# Deliveries still queued this long were never picked up (broker down at commit): re-enqueue.
DELIVERY_REQUEUE_AFTER_SECONDS = env.int("DELIVERY_REQUEUE_AFTER_SECONDS", default=120)
# Download links live 15 minutes: long enough to start a download, short enough that a
# leaked link is soon useless. A started download may resume through the same link.
DOWNLOAD_LINK_TTL_SECONDS = env.int("DOWNLOAD_LINK_TTL_SECONDS", default=900)
# Streaming chunk for downloads: 1 MiB keeps memory constant and syscalls few.
DOWNLOAD_CHUNK_BYTES = 1024 * 1024

# --- Delta Sharing (SPEC §10, docs/api.md#delta-sharing) ---------------------------------
# File URLs in a query's answer authorise themselves (their token is the credential), so they
# live as long as a download link: enough for a client to fetch right after its query.
DELTA_SHARING_URL_TTL_SECONDS = env.int("DELTA_SHARING_URL_TTL_SECONDS", default=900)
# The endpoint written into profile files, e.g. "https://data.example.cn/delta-sharing"; empty:
# derived from the request that downloads the profile (scheme and host as the buyer sees them).
DELTA_SHARING_ENDPOINT = env.str("DELTA_SHARING_ENDPOINT", default="")
CELERY_BEAT_SCHEDULE["delivery-sweep"] = {"task": "shujiao.delivery.sweep", "schedule": SWEEP_INTERVAL_SECONDS}
# Licence terms are counted in days: expiring hourly is precise enough.
CELERY_BEAT_SCHEDULE["delivery-expire"] = {"task": "shujiao.delivery.expire", "schedule": 3600.0}
# Package files of expired and revoked deliveries are kept this many days (for support and
# disputes), then deleted by an hourly task; failed deliveries lose theirs at once.
DELIVERY_RETENTION_DAYS = env.int("DELIVERY_RETENTION_DAYS", default=7)
CELERY_BEAT_SCHEDULE["delivery-purge-packages"] = {"task": "shujiao.delivery.purge_packages", "schedule": 3600.0}
# The delivery status enum gets its own name in the OpenAPI schema (other models have a "status" too).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    **SPECTACULAR_SETTINGS.get("ENUM_NAME_OVERRIDES", {}),
    "DeliveryStatusEnum": "exchange.models.delivery.Delivery.Status",
    # Named explicitly since the public catalog has its own version/listing components.
    "VersionStatusEnum": "exchange.models.catalog.DatasetVersion.Status",
    "ListingStatusEnum": "exchange.models.catalog.Listing.Status",
    "RevisionStatusEnum": "exchange.models.revisions.ListingRevision.Status",
    "DisputeKindEnum": "exchange.models.disputes.Dispute.Kind",
    "DatasetKindEnum": "exchange.models.catalog.Dataset.Kind",
    "RevisionDiffStatusEnum": "exchange.models.revisions.ListingRevision.DiffStatus",
    "OfferKindEnum": "exchange.models.catalog.Offer.Kind",
}
