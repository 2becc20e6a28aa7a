"""Secrets, hosts, passwords and sessions, webhook targets and the audit transparency log."""

from datetime import timedelta

from .core import env
from .tasks import CELERY_BEAT_SCHEDULE

# --- Secrets and hosts ------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#core-settings
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- Auth ------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/auth/passwords/
# Argon2id at OWASP's parameters (marketplace/hashers.py); hashes made with Django's Argon2
# defaults verify and are re-hashed at a login. PBKDF2 verifies (and upgrades) older hashes.
PASSWORD_HASHERS = [
    "marketplace.hashers.Argon2idOWASPPasswordHasher",
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
SESSION_COOKIE_AGE = int(timedelta(days=7).total_seconds())

# --- Audit transparency log (SPEC §11) ----------------------------------------
# The checkpoint origin line, also the signed-note key name of the log's signing key
# (a schema-less URL without spaces or '+', per c2sp.org/tlog-checkpoint).
AUDIT_LOG_ORIGIN = env.str("AUDIT_LOG_ORIGIN", default="shujiao.example/audit")
# Beat signs a new checkpoint when the tree grew, at most this often: buyers' anchors stay
# fresh within a minute, and an idle log signs nothing.
AUDIT_CHECKPOINT_SECONDS = env.int("AUDIT_CHECKPOINT_SECONDS", default=60)
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {"task": "shujiao.audit.checkpoint", "schedule": float(AUDIT_CHECKPOINT_SECONDS)}

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
