"""The database (SQLite embedded, PostgreSQL to scale out) and the cache."""

from pathlib import Path

from .core import VAR_DIR, env

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
