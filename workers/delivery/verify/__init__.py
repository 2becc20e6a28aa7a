"""Verify a signed delivery package (SPEC §5), by sub-domain:

``spec``      the format: names, required keys, canonical JSON, SHA256SUMS, public keys
``archive``   reading the ZIP safely (names, sizes, ratios before inflating)
``manifest``  the manifest's shape
``checks``    the checks in order and their result (:func:`verify_package`)
``cli``       the ``verify`` command
``bundle``    joins the modules above into the one file buyers download
              (``/verify/shujiao_verify.py``): the rules exist once, here.

These modules import only the standard library, ``cryptography`` and each other
(``from .module import name``), which is what lets :mod:`.bundle` join them.
"""

from .archive import MAX_ENTRIES, MAX_ENTRY_SIZE, MAX_RATIO, MAX_TOTAL_SIZE, unsafe_name_reason
from .checks import CHECK_NAMES, Check, VerifyResult, verify_package

__all__ = ["CHECK_NAMES", "MAX_ENTRIES", "MAX_ENTRY_SIZE", "MAX_RATIO", "MAX_TOTAL_SIZE", "Check",
           "VerifyResult", "unsafe_name_reason", "verify_package"]
