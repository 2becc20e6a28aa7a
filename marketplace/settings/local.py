"""Local development and the demo: DEBUG on, a fixed development secret, demo helpers on."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-local-development-key-do-not-deploy")
DEMO_MODE = env.bool("SHUJIAO_DEMO_MODE", default=True)

# --- Delivery ---
# Demo-only passphrase for the signing keys' encrypted PEMs; production has no default.
SIGNING_KEY_PASSPHRASE = env.str("SIGNING_KEY_PASSPHRASE", default="insecure-local-signing-key-passphrase")
FINGERPRINT_SECRET = env.str("FINGERPRINT_SECRET", default="insecure-local-fingerprint-secret")

# --- Webhooks: the demo may post to receivers on this machine ---
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=True)
