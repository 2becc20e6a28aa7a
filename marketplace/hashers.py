"""Password hashing: Argon2id at OWASP's recommended parameters (see docs/architecture.md, "Passwords").

Django's own Argon2 defaults (t=2, 100 MiB, p=8) cost ~250 ms of CPU per login on the embedded
default's 2 cores, where logins share them with every other request. OWASP's Password Storage
Cheat Sheet sets the minimum for Argon2id at 19 MiB of memory, 2 iterations and 1 lane
(m=19456 KiB, t=2, p=1), one of its five equivalent parameter sets; that is ~30 ms of CPU.

The algorithm name stays ``argon2``: stored hashes with other parameters still verify (Argon2
reads them from the hash), and Django re-hashes a password at these parameters on its next
successful login (``must_update`` compares the parameters).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idOWASPPasswordHasher(Argon2PasswordHasher):
    """Argon2id, m=19 MiB, t=2, p=1 (OWASP Password Storage Cheat Sheet, its first listed option)."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
