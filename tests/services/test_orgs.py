import pytest
from django.contrib.auth import get_user_model

from exchange.actor import Actor
from exchange.errors import Conflict, Forbidden, InvalidInput
from exchange.models import ApiKey, AuditEvent, Membership, Organization
from exchange.services import orgs

GOOD_CODE = "91350100M000100Y43"


def _register(**overrides):
    fields = {"name": "Acme 数据", "credit_code": GOOD_CODE, "city": "Fuzhou", "username": "acme",
              "email": "a@acme.cn", "password": "a-Long-enough-pass-2026"}
    fields.update(overrides)
    return orgs.organization_register(actor=Actor.system("test"), **fields)


def test_register_creates_pending_firm_owner_and_audit(db):
    org = _register()
    assert org.verification_status == Organization.Status.PENDING
    membership = Membership.objects.get(organization=org)
    assert membership.role == "owner" and membership.user.username == "acme"
    assert membership.user.password.startswith(("argon2", "md5"))
    event = AuditEvent.objects.get(action="organization.registered")
    assert event.organization_id == str(org.pk) and event.details["credit_code"] == GOOD_CODE


def test_register_with_invalid_credit_code_names_the_field_and_writes_nothing(db):
    with pytest.raises(InvalidInput) as exc:
        _register(credit_code="91350100M000100Y44")
    assert "check character" in exc.value.fields["credit_code"][0]
    assert Organization.objects.count() == 0
    assert get_user_model().objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_register_duplicate_code_refused(db):
    _register()
    with pytest.raises(InvalidInput) as exc:
        _register(username="other")
    assert "already registered" in exc.value.fields["credit_code"][0]
    assert Organization.objects.count() == 1


def test_staff_verify_and_reject_are_audited(db, staff_actor):
    org = _register()
    orgs.organization_review(actor=staff_actor, organization=org, approve=True)
    org.refresh_from_db()
    assert org.is_verified and org.verified_at is not None
    with pytest.raises(Conflict):
        orgs.organization_review(actor=staff_actor, organization=org, approve=True)
    with pytest.raises(InvalidInput, match="reason"):
        orgs.organization_review(actor=staff_actor, organization=org, approve=False, note=" ")
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["organization.registered", "organization.verified"]


def test_non_staff_cannot_verify(make_firm, actor_for):
    org = make_firm(verified=False)
    with pytest.raises(Forbidden):
        orgs.organization_review(actor=actor_for(org), organization=org, approve=True)
    org.refresh_from_db()
    assert org.verification_status == "pending"


def test_api_key_is_shown_once_and_stored_as_hash(make_firm, actor_for):
    org = make_firm()
    key, secret = orgs.api_key_create(actor=actor_for(org), name="ERP", scopes=["read", "sell"])
    assert secret.startswith(f"sjk_{key.prefix}_") and len(secret) > 40
    stored = ApiKey.objects.get(pk=key.pk)
    assert secret not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
    assert orgs.api_key_authenticate(secret=secret) == stored
    assert orgs.api_key_authenticate(secret=secret + "x") is None


def test_api_key_bad_scopes_refused(make_firm, actor_for):
    org = make_firm()
    with pytest.raises(InvalidInput) as exc:
        orgs.api_key_create(actor=actor_for(org), name="x", scopes=["admin"])
    assert "Unknown scope admin" in exc.value.fields["scopes"][0]
    assert ApiKey.objects.count() == 0


def test_revoked_key_no_longer_authenticates(make_firm, actor_for):
    org = make_firm()
    key, secret = orgs.api_key_create(actor=actor_for(org), name="ERP", scopes=["read"])
    orgs.api_key_revoke(actor=actor_for(org), key=key)
    assert orgs.api_key_authenticate(secret=secret) is None
    with pytest.raises(Conflict):
        orgs.api_key_revoke(actor=actor_for(org), key=key)


def test_other_firm_cannot_revoke_key(make_firm, actor_for):
    a, b = make_firm(), make_firm()
    key, _ = orgs.api_key_create(actor=actor_for(a), name="ERP", scopes=["read"])
    with pytest.raises(Forbidden):
        orgs.api_key_revoke(actor=actor_for(b), key=key)
    key.refresh_from_db()
    assert key.revoked_at is None


def test_owner_adds_member_but_member_cannot(make_firm, actor_for):
    org = make_firm()
    membership = orgs.member_add(actor=actor_for(org), organization=org, username="colleague",
                                 email="c@x.cn", password="another-Long-pass-2026")
    assert membership.role == "member"
    member_actor = Actor(type="user", user=membership.user, organization=org)
    with pytest.raises(Forbidden):
        orgs.member_add(actor=member_actor, organization=org, username="third", email="t@x.cn", password="another-Long-pass-2026")
    assert org.memberships.count() == 2
