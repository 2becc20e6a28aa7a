"""Settings shared by every environment, read from the environment (12-factor).

Each group links to the documentation of the settings it configures. Environment
variables are listed, with their defaults, in README.md.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("SHUJIAO_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

# --- Core ------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#core-settings
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "exchange",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "exchange.middleware.CurrentOrganizationMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "exchange.web.context.firm",
                "exchange.web.context.notifications",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
# Embedded default: SQLite under var/. Scale-out: DATABASE_URL=postgres://…
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'shujiao.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
_SQLITE_ENGINES = ("django.db.backends.sqlite3", "marketplace.sqlite_backend")
if DATABASES["default"]["ENGINE"] not in _SQLITE_ENGINES:
    # Persistent connections: a new PostgreSQL connection per request halved listing-page throughput.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] in _SQLITE_ENGINES:
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets readers run while one writer writes. IMMEDIATE transactions take the write
    # lock at BEGIN, so a transaction that reads then writes never fails its upgrade with
    # "database is locked" (a DEFERRED one does, at once, whatever the timeout); writers
    # queue on the busy timeout instead. 5 s is far above any of our short transactions.
    # One writer at a time per process, handed over at once (marketplace/sqlite_backend).
    DATABASES["default"]["ENGINE"] = "marketplace.sqlite_backend"
    SQLITE_WRITE_LOCK_TIMEOUT = env.float("SQLITE_WRITE_LOCK_TIMEOUT", default=30.0)
    DATABASES["default"]["OPTIONS"] = {
        "timeout": env.float("SQLITE_BUSY_TIMEOUT", default=5.0),
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache -----------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/cache/
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth ------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/auth/passwords/
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:catalog"
LOGOUT_REDIRECT_URL = "web:catalog"

# --- I18N ------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media (storage API) -----------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#storages
# Dataset files and delivery packages go through STORAGES["default"]; nothing assumes the
# web process and the worker share a disk. STORAGE_BACKEND=s3 switches to django-storages.
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="local")
if STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            # "path" for servers without virtual-host buckets (MinIO, moto, Ceph behind one name).
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default=None),
            "access_key": env.str("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
# Where a process copies a stored object it needs as a seekable local file (exchange.storage.
# local_copy): its own disk, never MEDIA_ROOT. None: the system's temp dir (TMPDIR).
STORAGE_TMP_DIR = env.str("STORAGE_TMP_DIR", default=None)
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Uploads ---------------------------------------------------------------
# Uploads are streamed to temporary files (never held in memory) and hashed while read.
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=2 * 1024**3)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default=None)

# --- REST framework --------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "exchange.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "exchange.api.pagination.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "exchange.api.filters.StrictFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "exchange.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "exchange.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        # One bucket per key, per firm, per session user, per anonymous IP (README "Limits").
        "exchange.api.throttling.ApiKeyRateThrottle",
        "exchange.api.throttling.FirmRateThrottle",
        "exchange.api.throttling.SessionUserRateThrottle",
        "exchange.api.throttling.AnonymousIpRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="1200/min"),
        "api_key": env.str("THROTTLE_API_KEY", default="600/min"),
        # A firm's keys and members together: a few busy keys, not unlimited keys.
        "firm": env.str("THROTTLE_FIRM", default="3000/min"),
        # Password attempts for API keys (POST /api/v1/auth/keys/) per client IP: an owner's script
        # needs one or two; a guesser gets 20 an hour.
        "key_bootstrap": env.str("THROTTLE_KEY_BOOTSTRAP", default="20/hour"),
        # Firm sign-ups over the API (POST /api/v1/auth/signup/) per client IP.
        "signup": env.str("THROTTLE_SIGNUP", default="10/hour"),
    },
    # JSON bodies only (uploads declare multipart on their own action): one body format to document.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shujiao (数交) data exchange API",
    "DESCRIPTION": "Catalog, datasets, listings, trading and signed deliveries. "
    "Authenticate with `Authorization: Api-Key <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI assets served locally (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery ----------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
# Embedded default: kombu's filesystem transport (no server, several processes on one
# machine can share it). Scale-out: CELERY_BROKER_URL=redis://…
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # kombu's default is 1 s between polls of an empty queue folder; 0.1 s lets a worker
        # take the next message at once (cheap: one directory listing).
        "polling_interval": env.float("CELERY_BROKER_POLLING_INTERVAL", default=0.1),
    }
else:
    # The visibility timeout must exceed the longest task time limit, or Redis would
    # redeliver a task that is still running to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
# Reliability: a task is acknowledged only after it finished, a task whose worker died is
# requeued, and each worker process holds one task at a time so a crash loses at most one.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Quality checks read whole files (1 GB ≈ a few seconds to minutes); one hour is a wide bound.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=3600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=3300)
CELERY_TASK_DEFAULT_QUEUE = "default"
# The modules that define tasks; every worker imports them at start-up (heavy libraries once).
CELERY_IMPORTS = ("workers.tasks", "workers.trading_tasks", "workers.delivery_tasks", "workers.webhook_tasks",
                 "workers.diff_tasks", "workers.after_sales_tasks")
CELERY_TASK_QUEUES_NAMES = ("default", "quality", "delivery")
CELERY_TASK_ROUTES = {
    "shujiao.quality.*": {"queue": "quality"},
    "shujiao.delivery.*": {"queue": "delivery"},
    "shujiao.diff.*": {"queue": "quality"},
}
CELERY_BEAT_SCHEDULE = {}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Exchange rules --------------------------------------------------------
# Largest price accepted for one offer: 100 million CNY, in fen. Anything above is a typo.
MAX_PRICE_FEN = env.int("MAX_PRICE_FEN", default=100_000_000 * 100)
DEMO_MODE = env.bool("SHUJIAO_DEMO_MODE", default=False)

# --- Logging ---------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

SESSION_COOKIE_AGE = int(timedelta(days=7).total_seconds())
FILE_UPLOAD_HANDLERS = ["exchange.uploads.HashingTemporaryFileUploadHandler"]

# --- Quality checks --------------------------------------------------------
QUALITY_CHECK_TIME_LIMIT = env.int("QUALITY_CHECK_TIME_LIMIT", default=1800)
QUALITY_MEMORY_LIMIT_BYTES = env.int("QUALITY_MEMORY_LIMIT_BYTES", default=512 * 1024**2)
# Quality checks profile a local copy of an S3 object here (None: STORAGE_TMP_DIR / TMPDIR).
QUALITY_TMP_DIR = env.str("QUALITY_TMP_DIR", default=None)
QUALITY_MAX_MALFORMED_SHARE = env.float("QUALITY_MAX_MALFORMED_SHARE", default=0.01)
# A running check refreshes its heartbeat this often, from a background thread (and on progress)...
QUALITY_HEARTBEAT_SECONDS = 5
# ...so a claim without a heartbeat for this long belongs to a dead worker and may be taken over.
QUALITY_STALE_SECONDS = env.int("QUALITY_STALE_SECONDS", default=15)
QUALITY_MAX_ATTEMPTS = 3
# Versions still "uploaded" this long after upload were never picked up (broker down): re-enqueue.
QUALITY_REQUEUE_AFTER_SECONDS = env.int("QUALITY_REQUEUE_AFTER_SECONDS", default=120)
# Sweepers look for lost and stale work this often (two indexed queries). With heartbeats every
# 5 s from a background thread and a 15 s stale threshold, a SIGKILLed worker's check or build is
# taken over within STALE + SWEEP_INTERVAL (≤ 20 s) once a worker with beat runs.
SWEEP_INTERVAL_SECONDS = env.float("SWEEP_INTERVAL_SECONDS", default=5.0)
CELERY_BEAT_SCHEDULE["quality-sweep"] = {"task": "shujiao.quality.sweep", "schedule": SWEEP_INTERVAL_SECONDS}

# A revision's diff still pending this long after it was created lost its task (broker down,
# worker killed): send it again. Longer than the diff task's time limit, so a running one is not doubled.
DIFF_REQUEUE_AFTER_SECONDS = env.int("DIFF_REQUEUE_AFTER_SECONDS", default=3700)
CELERY_BEAT_SCHEDULE["diff-sweep"] = {"task": "shujiao.diff.sweep", "schedule": 300.0}

# --- Trading ---------------------------------------------------------------
# Exchange commission on each settled trade, in basis points (500 = 5%). The commission
# is floor(price_fen × bp / 10000); the seller receives the rest (see services/ledger.py).
TRADING_COMMISSION_BP = env.int("TRADING_COMMISSION_BP", default=500)
# A pending access request the seller has not answered within this many days expires.
ACCESS_REQUEST_EXPIRY_DAYS = env.int("ACCESS_REQUEST_EXPIRY_DAYS", default=14)
# Largest single top-up, in fen (1 million CNY): anything above is a typo, not a deposit.
MAX_TOPUP_FEN = env.int("MAX_TOPUP_FEN", default=1_000_000 * 100)
# Sandbox top-ups (demo mode only) are capped so a demo wallet stays plausible.
SANDBOX_TOPUP_MAX_FEN = 100_000 * 100
# Expiring hourly is precise enough for a limit counted in days.
CELERY_BEAT_SCHEDULE["trading-expire-requests"] = {"task": "shujiao.trading.expire_requests", "schedule": 3600.0}
# Two trading models have a "status" field; name their OpenAPI enums apart.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update({
    "AccessRequestStatusEnum": "exchange.models.trading.AccessRequest.Status",
    "ContractStatusEnum": "exchange.models.trading.Contract.Status",
})

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

# --- Public metadata (Croissant, Data Package, schema.org; SPEC §5) ------------------
# The exchange's public address: the listing URL written into every delivery's
# metadata/croissant.json and datapackage.json (built by a worker, which has no request).
# Pages and the API use the address they were reached at.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://localhost:8000").rstrip("/")
# The publisher named in that metadata.
EXCHANGE_NAME = env.str("EXCHANGE_NAME", default="Shujiao 数交 data exchange")

# --- Audit transparency log (SPEC §11) ----------------------------------------
# The checkpoint origin line, also the signed-note key name of the log's signing key
# (a schema-less URL without spaces or '+', per c2sp.org/tlog-checkpoint).
AUDIT_LOG_ORIGIN = env.str("AUDIT_LOG_ORIGIN", default="shujiao.example/audit")
# Beat signs a new checkpoint when the tree grew, at most this often: buyers' anchors stay
# fresh within a minute, and an idle log signs nothing.
AUDIT_CHECKPOINT_SECONDS = env.int("AUDIT_CHECKPOINT_SECONDS", default=60)
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {"task": "shujiao.audit.checkpoint", "schedule": float(AUDIT_CHECKPOINT_SECONDS)}
CELERY_IMPORTS = (*CELERY_IMPORTS, "workers.audit_tasks")

# --- Webhooks ---------------------------------------------------------------
# SPEC §9; docs/api.md "Webhooks". Endpoints must be https:// and resolve to public
# addresses; WEBHOOK_ALLOW_PRIVATE (tests and the demo only) also allows http:// and
# private, loopback and link-local targets (test and local settings read it from the environment).
WEBHOOK_ALLOW_PRIVATE = False
# A receiver should answer at once and do its work later; 15 s bounds a stuck one.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=15.0)
# After a rotation the previous secret signs too for this long, so receivers can switch.
WEBHOOK_ROTATION_OVERLAP_HOURS = 24
# Retries are due in the database (next_attempt_at), not as broker ETAs (which Redis would
# redeliver after its visibility timeout): the sweeper sends what is due.
CELERY_BEAT_SCHEDULE["webhooks-sweep"] = {"task": "shujiao.webhooks.sweep", "schedule": 30.0}

# --- After-sales: acceptance window, disputes, notifications -----------------------
# docs/architecture.md "Contract lifecycle". A window that ended releases escrow within a
# minute: one indexed query (contract_window_open) per run, so running it often is cheap.
CELERY_BEAT_SCHEDULE["trading-release-due"] = {"task": "shujiao.trading.release_due", "schedule": 60.0}
# Buyers are reminded once, this many hours before their window closes (hourly task).
ACCEPTANCE_REMINDER_HOURS = 24
CELERY_BEAT_SCHEDULE["trading-remind-windows"] = {"task": "shujiao.trading.remind_windows", "schedule": 3600.0}
# Quality re-checks of a delivered file use the quality queue and the quality check's limits.
DISPUTE_RECHECK_MAX_ATTEMPTS = 3
CELERY_BEAT_SCHEDULE["disputes-sweep"] = {"task": "shujiao.quality.sweep_rechecks", "schedule": SWEEP_INTERVAL_SECONDS}
# E-mail to firms' members (https://docs.djangoproject.com/en/5.2/topics/email/): the console
# backend unless EMAIL_URL is set, e.g. smtp+tls://user:password@smtp.example.com:587.
NOTIFICATION_EMAIL = env.bool("NOTIFICATION_EMAIL", default=True)
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST, EMAIL_PORT = _email.get("EMAIL_HOST", ""), _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_USER", ""), _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS, EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_TLS")), bool(_email.get("EMAIL_USE_SSL"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Shujiao <noreply@shujiao.example>")
# Disputes have a "kind" and a "status" of their own; name their OpenAPI enums apart.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update({
    "DisputeKindEnum": "exchange.models.disputes.Dispute.Kind",
    "DatasetKindEnum": "exchange.models.catalog.Dataset.Kind",
    "DisputeStatusEnum": "exchange.models.disputes.Dispute.Status",
})
# Links in e-mails point here.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
