"""Firms, their people and their API keys."""

import uuid

from django.conf import settings
from django.db import models

from exchange.validators import validate_credit_code


class Organization(models.Model):
    """A firm (data merchant or buyer). Only verified firms may publish or buy."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending verification"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    credit_code = models.CharField(
        "unified social credit code", max_length=18, unique=True, validators=[validate_credit_code]
    )
    city = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    verification_status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    verification_note = models.TextField(blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.verification_status == self.Status.VERIFIED


class Membership(models.Model):
    """A user's place in a firm. A user belongs to exactly one firm."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class ApiKey(models.Model):
    """A per-firm API key. The secret is shown once; only its SHA-256 is stored.

    SHA-256 (not a slow password hash) is right here: the secret carries 256 bits of
    randomness, so it cannot be guessed, and every API request must check it quickly.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read"
        SELL = "sell", "Sell"
        BUY = "buy", "Buy"
        WEBHOOKS = "webhooks", "Manage webhooks"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_active_at(self, when) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > when)


class AgeRecipient(models.Model):
    """An age X25519 recipient (``age1…``) a firm registered; deliveries are encrypted to the
    verified, unrevoked ones. Possession is proved by decrypting a challenge: only the SHA-256
    of its plaintext is kept, so the exchange cannot answer it itself from the database."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="age_recipients")
    recipient = models.CharField(max_length=100)
    label = models.CharField(max_length=100, blank=True)
    challenge = models.TextField(blank=True)  # ASCII-armoured age ciphertext shown to the firm
    challenge_sha256 = models.CharField(max_length=64, blank=True)
    challenge_attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["organization", "recipient"], condition=models.Q(revoked_at__isnull=True),
                                               name="age_recipient_one_live_per_firm")]

    def __str__(self) -> str:
        return f"{self.recipient[:16]}… ({self.organization})"

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "verified" if self.verified_at is not None else "pending"
