"""Quality checks, their sweeper, and revision diffs."""

from .core import env
from .tasks import CELERY_BEAT_SCHEDULE

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
