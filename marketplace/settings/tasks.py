"""Celery: the broker (filesystem embedded, Redis to scale out), reliability, queues and beat.

Each domain's settings module adds its periodic tasks to CELERY_BEAT_SCHEDULE."""

from .core import VAR_DIR, env

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
                 "workers.diff_tasks", "workers.after_sales_tasks", "workers.audit_tasks")
CELERY_TASK_QUEUES_NAMES = ("default", "quality", "delivery")
CELERY_TASK_ROUTES = {
    "shujiao.quality.*": {"queue": "quality"},
    "shujiao.delivery.*": {"queue": "delivery"},
    "shujiao.diff.*": {"queue": "quality"},
}
CELERY_BEAT_SCHEDULE = {}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
