"""Firms: registration, verification by staff, members and API keys."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.utils import timezone

from exchange.actor import Actor
from exchange.errors import Conflict, Forbidden, InvalidInput, Unauthenticated
from exchange.models import ApiKey, Membership, Organization
from exchange.services.audit import audit_record
from exchange.validators import credit_code_problem

logger = logging.getLogger(__name__)

API_KEY_PREFIX = "sjk_"
# last_used_at is written at most once a minute per key, not on every request.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def _require_staff(actor: Actor) -> None:
    if actor.user is None or not actor.user.is_staff:
        raise Forbidden("Only exchange staff can do this.")


def _require_owner(actor: Actor, organization: Organization) -> None:
    if actor.organization is None or actor.organization.pk != organization.pk:
        raise Forbidden("You can only manage your own firm.")
    if actor.api_key is None and actor.user.membership.role != Membership.Role.OWNER:
        raise Forbidden("Only an owner of the firm can do this.")


def _require_key_manager(actor: Actor) -> None:
    """API keys are managed only from an owner's web session, never by a key.

    A key that could create keys could mint one with a later expiry or survive its own
    revocation through a child; forbidding it outright leaves nothing to propagate.
    """
    if actor.api_key is not None:
        raise Forbidden("API keys cannot list, create or revoke API keys; an owner does this in a signed-in session.",
                        code="key_management_needs_owner")
    if actor.organization is None or actor.user is None:
        raise Forbidden("Only members of a firm can manage API keys.")
    membership = getattr(actor.user, "membership", None)
    if membership is None or membership.role != Membership.Role.OWNER:
        raise Forbidden("Only an owner of the firm can manage API keys.", code="key_management_needs_owner")


def api_keys_of(*, actor: Actor):
    """The firm's API keys, for an owner's session only."""
    _require_key_manager(actor)
    return ApiKey.objects.filter(organization=actor.organization)


def _new_user_errors(*, username: str, email: str, password: str) -> dict[str, list[str]]:
    """Problems with the username and password of a user about to be created."""
    User = get_user_model()
    errors: dict[str, list[str]] = {}
    if not (username or "").strip():
        errors["username"] = ["A username is required."]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["This username is taken."]
    try:
        validate_password(password, User(username=username, email=email))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    return errors


def organization_register(
    *, actor: Actor, name: str, credit_code: str, city: str = "", description: str = "",
    username: str, email: str, password: str,
) -> Organization:
    """Sign up a firm with its first user as owner. The firm starts ``pending``."""
    User = get_user_model()
    credit_code = (credit_code or "").strip().upper()
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = ["The firm's name is required."]
    problem = credit_code_problem(credit_code)
    if problem:
        errors["credit_code"] = [f"Invalid unified social credit code: {problem}."]
    elif Organization.objects.filter(credit_code=credit_code).exists():
        errors["credit_code"] = ["A firm with this unified social credit code is already registered."]
    errors.update(_new_user_errors(username=username, email=email, password=password))
    if errors:
        raise InvalidInput("The registration has errors.", fields=errors)
    with transaction.atomic():
        org = Organization.objects.create(
            name=name.strip(), credit_code=credit_code, city=city.strip(), description=description.strip()
        )
        user = User.objects.create_user(username=username.strip(), email=email, password=password)
        Membership.objects.create(user=user, organization=org, role=Membership.Role.OWNER)
        audit_record(
            actor=Actor(type="user", user=user, organization=org, origin_ip=actor.origin_ip),
            action="organization.registered",
            obj=org,
            organization=org,
            details={"name": org.name, "credit_code": org.credit_code, "owner": user.username},
        )
    return org


def organization_review(*, actor: Actor, organization: Organization, approve: bool, note: str = "") -> Organization:
    """Staff verify or reject a firm. Rejection needs a reason the firm can read."""
    _require_staff(actor)
    if not approve and not note.strip():
        raise InvalidInput("A reason is required to reject a firm.", fields={"note": ["Give a reason."]})
    with transaction.atomic():
        # NO KEY UPDATE: the firm's own audit events (and keys, datasets…) insert rows referencing it
        # (FOR KEY SHARE) while holding the audit chain's lock; a plain FOR UPDATE here deadlocked with them.
        org = Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
        old = org.verification_status
        target = Organization.Status.VERIFIED if approve else Organization.Status.REJECTED
        if old == target:
            raise Conflict(f"The firm is already {target}.")
        org.verification_status = target
        org.verification_note = note.strip()
        org.verified_at = timezone.now() if approve else None
        org.save(update_fields=["verification_status", "verification_note", "verified_at"])
        audit_record(
            actor=actor, action="organization.verified" if approve else "organization.rejected",
            obj=org, organization=org, details={"from": old, "to": target, "note": org.verification_note},
        )
    return org


def member_add(*, actor: Actor, organization: Organization, username: str, email: str, password: str,
               role: str = Membership.Role.MEMBER) -> Membership:
    """An owner adds a colleague as a new user of the firm."""
    _require_owner(actor, organization)
    User = get_user_model()
    errors: dict[str, list[str]] = {}
    if role not in Membership.Role.values:
        errors["role"] = [f"Role must be one of {', '.join(Membership.Role.values)}."]
    errors.update(_new_user_errors(username=username, email=email, password=password))
    if errors:
        raise InvalidInput("The new member has errors.", fields=errors)
    with transaction.atomic():
        user = User.objects.create_user(username=username.strip(), email=email, password=password)
        membership = Membership.objects.create(user=user, organization=organization, role=role)
        audit_record(actor=actor, action="member.added", obj=membership, organization=organization,
                     details={"username": user.username, "role": role})
    return membership


def _require_owner_or_staff(actor: Actor, organization: Organization) -> None:
    if actor.type == "staff" and actor.user is not None and actor.user.is_staff:
        return
    _require_owner(actor, organization)


_ORG_TEXT_LIMITS = {"name": 200, "city": 100, "description": 5000}


def organization_update(*, actor: Actor, organization: Organization, **fields: str) -> Organization:
    """Correct a firm's name, city or description (an owner, or staff). The credit code and the
    verification status never change here: the code is checked at registration, the status by review."""
    _require_owner_or_staff(actor, organization)
    unknown = sorted(set(fields) - set(_ORG_TEXT_LIMITS))
    if unknown:
        raise InvalidInput(f"These firm fields cannot be changed here: {', '.join(unknown)}.",
                           fields={name: ["Not editable."] for name in unknown})
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    for name, value in fields.items():
        value = (value or "").strip()
        if name == "name" and not value:
            errors[name] = ["A firm needs a name."]
        elif len(value) > _ORG_TEXT_LIMITS[name]:
            errors[name] = [f"At most {_ORG_TEXT_LIMITS[name]} characters."]
        clean[name] = value
    if errors:
        raise InvalidInput("The firm details have errors.", fields=errors)
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        changed = sorted(name for name, value in clean.items() if getattr(org, name) != value)
        for name in changed:
            setattr(org, name, clean[name])
        if changed:
            org.save(update_fields=changed)
            audit_record(actor=actor, action="organization.updated", obj=org, organization=org, details={"fields": changed})
            from exchange.services.catalog_flat import listings_of_seller_refresh

            listings_of_seller_refresh(org.pk)
    return org


def _owners_left(membership: Membership) -> int:
    return Membership.objects.filter(organization_id=membership.organization_id, role=Membership.Role.OWNER).exclude(pk=membership.pk).count()


def member_role_set(*, actor: Actor, membership: Membership, role: str) -> Membership:
    """Make a member an owner or an owner a member (an owner of the firm, or staff). A firm keeps one owner at least."""
    _require_owner_or_staff(actor, membership.organization)
    if role not in Membership.Role.values:
        raise InvalidInput(f"Role must be one of {', '.join(Membership.Role.values)}.", fields={"role": ["Unknown role."]})
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=membership.organization_id)  # serialise owner changes per firm
        membership = Membership.objects.select_related("user", "organization").get(pk=membership.pk)
        if membership.role == role:
            raise Conflict(f"{membership.user.get_username()} is already {role}.")
        if role != Membership.Role.OWNER and _owners_left(membership) == 0:
            raise Conflict("A firm must keep at least one owner; make someone else owner first.", code="last_owner")
        old, membership.role = membership.role, role
        membership.save(update_fields=["role"])
        audit_record(actor=actor, action="member.role_changed", obj=membership, organization=membership.organization,
                     details={"username": membership.user.get_username(), "from": old, "to": role})
    return membership


def member_remove(*, actor: Actor, membership: Membership) -> None:
    """Remove someone from a firm (an owner of the firm, or staff). Their user account is
    deactivated rather than deleted, so the audit trail keeps naming who did what."""
    _require_owner_or_staff(actor, membership.organization)
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=membership.organization_id)
        membership = Membership.objects.select_related("user", "organization").get(pk=membership.pk)
        if membership.role == Membership.Role.OWNER and _owners_left(membership) == 0:
            raise Conflict("The last owner of a firm cannot be removed.", code="last_owner")
        user, org = membership.user, membership.organization
        audit_record(actor=actor, action="member.removed", obj=membership, organization=org,
                     details={"username": user.get_username(), "role": membership.role})
        membership.delete()
        user.is_active = False
        user.save(update_fields=["is_active"])


def _hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(*, actor: Actor, name: str, scopes: list[str], expires_at: datetime | None = None,
                   via: str = "session") -> tuple[ApiKey, str]:
    """Create a key for the actor's firm; returns the key and its secret, shown only this once.

    ``via`` is how the owner proved who they are (a web session, or a password over the API), for the audit log.
    """
    _require_key_manager(actor)
    org = actor.organization
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = ["Give the key a name."]
    scopes = sorted(set(scopes or []))
    unknown = [s for s in scopes if s not in ApiKey.Scope.values]
    if not scopes:
        errors["scopes"] = [f"Choose at least one scope of {', '.join(ApiKey.Scope.values)}."]
    elif unknown:
        errors["scopes"] = [f"Unknown scope {', '.join(unknown)}; allowed: {', '.join(ApiKey.Scope.values)}."]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry must be in the future."]
    if errors:
        raise InvalidInput("The API key has errors.", fields=errors)
    prefix = secrets.token_hex(4)
    secret = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            organization=org, name=name.strip(), prefix=prefix, key_hash=_hash_key(secret),
            scopes=scopes, created_by=actor.user, expires_at=expires_at,
        )
        audit_record(actor=actor, action="api_key.created", obj=key,
                     details={"name": key.name, "prefix": prefix, "scopes": scopes, "via": via})
    return key, secret


def api_key_bootstrap(*, username: str, password: str, origin_ip: str, name: str, scopes: list[str],
                      expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """A firm's owner creates an API key with their username and password, without a browser.

    The same rules as in a session (api_key_create: owners only, known scopes, a future
    expiry) — only the proof of identity differs. Wrong credentials and non-owners get the
    same refusals as elsewhere; a member who is not an owner is also recorded in the audit
    log, since a correct password was used against the firm. Callers throttle it per IP.
    """
    user = authenticate(username=username, password=password)
    if user is None:
        logger.warning("api key bootstrap: wrong username or password from %s", origin_ip or "?")
        raise Unauthenticated("Wrong username or password.")
    membership = getattr(user, "membership", None) if hasattr(user, "membership") else None
    actor = Actor(type="user", user=user, organization=membership.organization if membership else None,
                  origin_ip=origin_ip)
    try:
        return api_key_create(actor=actor, name=name, scopes=scopes, expires_at=expires_at, via="password")
    except Forbidden:
        if membership is not None:
            with transaction.atomic():
                audit_record(actor=actor, action="api_key.bootstrap_refused", obj=membership.organization,
                             organization=membership.organization,
                             details={"username": user.get_username(), "role": membership.role})
        raise


def api_key_revoke(*, actor: Actor, key: ApiKey) -> ApiKey:
    _require_key_manager(actor)
    if actor.organization is None or key.organization_id != actor.organization.pk:
        raise Forbidden("You can only revoke your own firm's keys.")
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is not None:
            raise Conflict("This API key is already revoked.")
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="api_key.revoked", obj=key, details={"prefix": key.prefix})
    return key


def api_key_authenticate(*, secret: str) -> ApiKey | None:
    """The active key with this secret, or None. Records when it was last used."""
    key = ApiKey.objects.select_related("organization").filter(key_hash=_hash_key(secret)).first()
    now = timezone.now()
    if key is None or not key.is_active_at(now):
        return None
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION:
        try:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        except OperationalError:  # best effort: a busy database must not refuse a valid key
            logger.warning("api key %s: last_used_at not recorded (database busy)", key.prefix)
        else:
            key.last_used_at = now
    return key
