"""The ``verify`` command (``python -m workers.delivery``, ``manage.py verify_delivery``): it is
the buyer's single-file verifier's command, :mod:`workers.delivery.verify.cli`."""

from .verify.cli import ENV_KEYS, UsageError, load_keys, main, parse_keys

__all__ = ["ENV_KEYS", "UsageError", "load_keys", "main", "parse_keys"]
