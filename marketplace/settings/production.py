"""Production: no default secrets (startup fails when one is missing), HTTPS everywhere."""

import os

from django.core.exceptions import ImproperlyConfigured


def _required(name: str, why: str) -> str:
    """The variable's value; a clear error naming it when unset or blank (never a silent default)."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable ({why}); production has no default for it.")
    return value


# Base settings fall back to the embedded default (SQLite, filesystem broker, local-memory
# cache, no passphrase); production refuses to start on any of them instead.
_required("DATABASE_URL", "e.g. postgres://user:pass@host:5432/shujiao")
_required("CELERY_BROKER_URL", "e.g. redis://host:6379/0")
_required("REDIS_URL", "the shared cache behind throttling and sessions, e.g. redis://host:6379/1")
_required("DJANGO_SECRET_KEY", "a long random secret")
# Written into every delivery's metadata (croissant.json, datapackage.json) as the listing's address: a
# localhost default would ship packages that point buyers nowhere.
if not _required("PUBLIC_BASE_URL", "the exchange's public https address, e.g. https://shujiao.example.com"
                 ).startswith("https://"):
    raise ImproperlyConfigured("PUBLIC_BASE_URL must be an https:// address in production (it is written into "
                               "every delivery's metadata).")

# Checked before base is read: base would turn a blank DATABASE_URL into a confusing KeyError.
from .base import *  # noqa: E402,F401,F403
from .base import FINGERPRINT_SECRET, SIGNING_KEY_PASSPHRASE, env  # noqa: E402

if not SIGNING_KEY_PASSPHRASE:
    raise ImproperlyConfigured(
        "Set SIGNING_KEY_PASSPHRASE or SIGNING_KEY_PASSPHRASE_FILE (a non-empty file): it encrypts the exchange's "
        "signing key; production has no default for it.")
if len(FINGERPRINT_SECRET) < 32:
    raise ImproperlyConfigured(
        "Set FINGERPRINT_SECRET or FINGERPRINT_SECRET_FILE to at least 32 random characters: it keys the per-buyer "
        "fingerprints of deliveries; production has no default for it.")

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY").strip()
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
DEMO_MODE = False
# Webhook targets are always public HTTPS addresses in production (no SSRF into the network).
WEBHOOK_ALLOW_PRIVATE = False
