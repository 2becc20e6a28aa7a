"""Settings for bench.catalog_bench: production settings plus the bare yardstick view's URL.

Throttle rates are raised (through their THROTTLE_* variables, set by the bench) so the load
generator's single IP is not refused; the throttles still run and still use the Redis cache.
"""

from marketplace.settings.production import *  # noqa: F401,F403

ROOT_URLCONF = "bench.catalog_urls"

# The bench collects the static files (the manifest storage needs them) into its own data folder.
STATIC_ROOT = BASE_DIR / "bench" / "data" / "static"  # noqa: F405
