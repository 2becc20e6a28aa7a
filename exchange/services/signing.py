"""The exchange's Ed25519 signing keys: create, rotate, retire, load for signing, publish.

Private keys exist in the database only as PKCS#8 PEM encrypted with
``settings.SIGNING_KEY_PASSPHRASE``; they are decrypted in the worker's memory for one
build. Every change is audited. Public parts are published as JWKS and PEM
(``/.well-known/shujiao/``); retired keys stay published so old packages still verify.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Conflict, NotFound
from exchange.models import SigningKey
from workers.delivery import (
    generate_private_key,
    jwk,
    jwks,
    key_id,
    load_private_key_pem,
    private_key_to_encrypted_pem,
    public_key_pem,
)


class NoActiveKey(Exception):
    """No signing key is active: a build waits (and retries) until staff create one."""


def _passphrase() -> bytes:
    value = settings.SIGNING_KEY_PASSPHRASE
    if not value:
        raise ImproperlyConfigured(
            "SIGNING_KEY_PASSPHRASE is not set: the exchange's signing keys are stored encrypted with it. "
            "Set it (or SIGNING_KEY_PASSPHRASE_FILE) in the environment of the web and worker processes.")
    return value.encode("utf-8")


DELIVERY = SigningKey.Purpose.DELIVERY


def _new_key_row(status: str, purpose: str) -> SigningKey:
    private = generate_private_key()
    return SigningKey(
        kid=key_id(private), public_key_pem=public_key_pem(private).decode("ascii"),
        private_key_pem_encrypted=private_key_to_encrypted_pem(private, _passphrase()).decode("ascii"),
        status=status, purpose=purpose,
    )


def signing_key_create(*, actor: Actor, purpose: str = DELIVERY) -> SigningKey:
    """Create the first active key of a purpose. Refused while one is active (rotate instead)."""
    key = _new_key_row(SigningKey.Status.ACTIVE, purpose)
    with transaction.atomic():
        if SigningKey.objects.filter(status=SigningKey.Status.ACTIVE, purpose=purpose).exists():
            raise Conflict("A signing key is already active; rotate it instead.", code="key_active")
        try:
            with transaction.atomic():
                key.save(force_insert=True)
        except IntegrityError:  # a concurrent create won the one-active constraint
            raise Conflict("A signing key is already active; rotate it instead.", code="key_active") from None
        audit_key(actor=actor, action="signing_key.created", key=key, details={"status": key.status})
    return key


def signing_key_ensure(*, actor: Actor, purpose: str = DELIVERY) -> SigningKey:
    """The active key of a purpose, created when there is none (demo seeding, first start)."""
    key = SigningKey.objects.filter(status=SigningKey.Status.ACTIVE, purpose=purpose).first()
    if key is not None:
        return key
    try:
        return signing_key_create(actor=actor, purpose=purpose)
    except Conflict:
        return SigningKey.objects.get(status=SigningKey.Status.ACTIVE, purpose=purpose)


def signing_key_rotate(*, actor: Actor, purpose: str = DELIVERY) -> SigningKey:
    """Make a new active key and retire the old one, in one transaction.

    Packages signed with the old key keep verifying: it stays published, marked retired.
    """
    new = _new_key_row(SigningKey.Status.ACTIVE, purpose)
    with transaction.atomic():
        old = SigningKey.objects.select_for_update().filter(status=SigningKey.Status.ACTIVE, purpose=purpose).first()
        if old is not None:
            _retire_locked(old)
        new.save(force_insert=True)
        audit_key(actor=actor, action="signing_key.rotated", key=new,
                  details={"retired": old.kid if old else None, "active": new.kid})
    return new


def _retire_locked(key: SigningKey) -> None:
    key.status, key.retired_at = SigningKey.Status.RETIRED, timezone.now()
    key.save(update_fields=["status", "retired_at"])


def signing_key_retire(*, actor: Actor, kid: str) -> SigningKey:
    """Retire a key: it signs nothing more but stays published for verification."""
    with transaction.atomic():
        key = SigningKey.objects.select_for_update().filter(kid=kid).first()
        if key is None:
            raise NotFound(f"No signing key {kid!r}.")
        if key.status == SigningKey.Status.RETIRED:
            raise Conflict(f"Signing key {kid} is already retired.", code="key_retired")
        _retire_locked(key)
        audit_key(actor=actor, action="signing_key.retired", key=key, details={})
    return key


def audit_key(*, actor: Actor, action: str, key: SigningKey, details: dict[str, Any]) -> None:
    from exchange.services.audit import audit_record

    audit_record(actor=actor, action=action, obj=key, organization=None,
                 details={"kid": key.kid, **({"purpose": key.purpose} if key.purpose != DELIVERY else {}),
                          **details})


def signing_key_for_signing(*, purpose: str = DELIVERY) -> tuple[SigningKey, Ed25519PrivateKey]:
    """The active key of a purpose, decrypted. Raises NoActiveKey when none is active."""
    key = SigningKey.objects.filter(status=SigningKey.Status.ACTIVE, purpose=purpose).first()
    if key is None:
        raise NoActiveKey("No active signing key: create one with `python manage.py signing_key create`.")
    private = load_private_key_pem(key.private_key_pem_encrypted.encode("ascii"), _passphrase())
    if key_id(private) != key.kid:
        raise ImproperlyConfigured(f"signing key {key.kid}: the stored private key does not match its id")
    return key, private


def signing_keys_public(*, purpose: str = DELIVERY) -> list[SigningKey]:
    """Every key of a purpose ever used, newest first (public parts are all a caller should read)."""
    return list(SigningKey.objects.filter(purpose=purpose).defer("private_key_pem_encrypted").order_by("-created_at"))


def signing_keys_jwks() -> dict[str, Any]:
    """The JWKS document: every key with ``status`` and its validity period."""
    from workers.delivery import load_public_key

    return jwks([jwk(load_public_key(k.public_key_pem), status=k.status, not_before=k.created_at,
                     not_after=k.retired_at) for k in signing_keys_public()])
