"""Trading (commission, requests, top-ups) and after-sales (acceptance windows, disputes, e-mail)."""

from .api import SPECTACULAR_SETTINGS
from .core import env
from .quality import SWEEP_INTERVAL_SECONDS
from .tasks import CELERY_BEAT_SCHEDULE

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
    "LineageStepEnum": "exchange.models.lineage.LineageStep",
})

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
