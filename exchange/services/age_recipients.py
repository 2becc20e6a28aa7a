"""A firm's age X25519 recipients: register, prove possession, revoke.

Registering encrypts a random challenge to the recipient; the firm decrypts it with its
identity (``age -d -i key.txt``) and pastes the plaintext back. Only the SHA-256 of the
challenge is stored, so nobody reading the database can answer in the firm's place.
Deliveries are encrypted to every verified, unrevoked recipient of the buyer
(services.delivery_protect). Each change is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound
from exchange.models import AgeRecipient, Membership, Organization
from exchange.services.audit import audit_record

# Bech32 "age1" + 58 data characters: what age-keygen prints for an X25519 recipient.
_RECIPIENT_RE = re.compile(r"age1[02-9ac-hj-np-z]{58}")
MAX_CHALLENGE_ATTEMPTS = 5  # then the recipient must be registered again (new challenge)
MAX_LIVE_RECIPIENTS = 10


def _require_manager(actor: Actor, organization: Organization) -> None:
    if actor.organization is None or actor.organization.pk != organization.pk:
        raise Forbidden("You can only manage your own firm's encryption keys.")
    if actor.api_key is not None:
        if not actor.has_scope("buy"):
            raise Forbidden("This API key needs the buy scope to manage encryption keys.", code="scope_missing")
        return
    membership = getattr(actor.user, "membership", None)
    if membership is None or membership.role != Membership.Role.OWNER:
        raise Forbidden("Only an owner of the firm can manage its encryption keys.")


def recipient_problem(value: str) -> str:
    """Why ``value`` is not an age X25519 recipient ("" when it is one)."""
    import pyrage

    if not value:
        return "Paste the public key age-keygen printed, starting with age1."
    if value.startswith("AGE-SECRET-KEY-"):
        return "That is a secret identity: never share it. Paste the public key (age1…) instead."
    if value.startswith(("ssh-", "age1pq", "age1tag")) or not value.startswith("age1"):
        return "Only age X25519 recipients are accepted: a public key starting with age1 (from age-keygen)."
    if not _RECIPIENT_RE.fullmatch(value):
        return "This is not a valid age recipient: age1 followed by 58 lowercase Bech32 characters."
    try:
        pyrage.x25519.Recipient.from_str(value)
    except pyrage.RecipientError:
        return "This is not a valid age recipient (its checksum does not match)."
    return ""


def age_recipients_of(*, organization: Organization):
    return AgeRecipient.objects.filter(organization=organization).order_by("-created_at")


def age_recipient_add(*, actor: Actor, organization: Organization, recipient: str, label: str = "") -> AgeRecipient:
    """Register a recipient (pending) with its challenge: the armoured age file shown to the firm."""
    import pyrage

    _require_manager(actor, organization)
    recipient = (recipient or "").strip()
    label = (label or "").strip()[:100]
    problem = recipient_problem(recipient)
    if problem:
        raise InvalidInput(problem, fields={"recipient": [problem]})
    live = AgeRecipient.objects.filter(organization=organization, revoked_at__isnull=True)
    if live.filter(recipient=recipient).exists():
        raise Conflict("This key is already registered for your firm.", code="age_recipient_exists")
    if live.count() >= MAX_LIVE_RECIPIENTS:
        raise Conflict(f"A firm may register at most {MAX_LIVE_RECIPIENTS} encryption keys; revoke one first.")
    answer = f"shujiao-age-challenge-{secrets.token_hex(16)}"
    challenge = pyrage.encrypt(answer.encode(), [pyrage.x25519.Recipient.from_str(recipient)], armored=True).decode()
    try:
        with transaction.atomic():
            rec = AgeRecipient.objects.create(
                organization=organization, recipient=recipient, label=label, challenge=challenge,
                challenge_sha256=hashlib.sha256(answer.encode()).hexdigest(), created_by=actor.user)
            audit_record(actor=actor, action="age_recipient.added", obj=rec, organization=organization,
                         details={"recipient": recipient, "label": label})
    except IntegrityError:
        raise Conflict("This key is already registered for your firm.", code="age_recipient_exists") from None
    return rec


def _live(actor: Actor, organization: Organization, recipient_id) -> AgeRecipient:
    _require_manager(actor, organization)
    rec = AgeRecipient.objects.select_for_update().filter(pk=recipient_id, organization=organization).first()
    if rec is None:
        raise NotFound("No such encryption key for your firm.")
    if rec.revoked_at is not None:
        raise Conflict("This encryption key was revoked.")
    return rec


def age_recipient_verify(*, actor: Actor, organization: Organization, recipient_id, answer: str) -> AgeRecipient:
    """Check the pasted plaintext of the challenge; a match makes the recipient verified."""
    answer = (answer or "").strip()
    with transaction.atomic():
        rec = _live(actor, organization, recipient_id)
        if rec.verified_at is not None:
            return rec
        if rec.challenge_attempts >= MAX_CHALLENGE_ATTEMPTS:
            raise Conflict("Too many wrong answers: revoke this key and register it again for a new challenge.")
        if not answer:
            raise InvalidInput("Paste what age -d printed.", fields={"answer": ["Paste the decrypted challenge."]})
        ok = hmac.compare_digest(hashlib.sha256(answer.encode()).hexdigest(), rec.challenge_sha256)
        if not ok:
            rec.challenge_attempts += 1
            rec.save(update_fields=["challenge_attempts"])
            audit_record(actor=actor, action="age_recipient.challenge_failed", obj=rec, organization=organization,
                         details={"attempts": rec.challenge_attempts})
        else:
            rec.verified_at, rec.challenge = timezone.now(), ""
            rec.save(update_fields=["verified_at", "challenge"])
            audit_record(actor=actor, action="age_recipient.verified", obj=rec, organization=organization,
                         details={"recipient": rec.recipient})
    if not ok:  # outside the atomic block: the failed attempt stays counted
        left = MAX_CHALLENGE_ATTEMPTS - rec.challenge_attempts
        # a well-formed answer that proves nothing: the caller has not shown it holds the identity (403)
        raise Forbidden("That is not the decrypted challenge.", code="wrong_answer",
                        fields={"answer": [f"Decrypt the challenge with this key's identity; {left} attempt(s) left."]})
    return rec


def age_recipient_revoke(*, actor: Actor, organization: Organization, recipient_id) -> AgeRecipient:
    """Revoked keys receive no further delivery (packages already built stay as they are)."""
    with transaction.atomic():
        rec = _live(actor, organization, recipient_id)
        rec.revoked_at, rec.challenge = timezone.now(), ""
        rec.save(update_fields=["revoked_at", "challenge"])
        audit_record(actor=actor, action="age_recipient.revoked", obj=rec, organization=organization,
                     details={"recipient": rec.recipient, "was": "verified" if rec.verified_at else "pending"})
    return rec
