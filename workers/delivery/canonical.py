"""Canonical JSON (SPEC §5): the exact bytes that are signed and verified (defined with the
verifier's rules in :mod:`workers.delivery.verify.spec`)."""

from .verify.spec import canonical_json

__all__ = ["canonical_json"]
