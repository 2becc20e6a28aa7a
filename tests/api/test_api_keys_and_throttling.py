"""API keys are managed only from an owner's session; throttles are per key, per firm, per IP."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from exchange.errors import Forbidden
from exchange.models import ApiKey, Membership
from exchange.services import orgs


def key_client(actor, scopes):
    key, secret = orgs.api_key_create(actor=actor, name="k", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return key, client


@pytest.mark.parametrize("scopes", [["read"], ["buy"], ["read", "sell", "buy"]])
def test_no_api_key_can_create_list_or_revoke_keys(make_firm, actor_for, scopes):
    org = make_firm()
    other, _ = orgs.api_key_create(actor=actor_for(org), name="other", scopes=["read"])
    key, client = key_client(actor_for(org), scopes)

    created = client.post("/api/v1/api-keys/", {"name": "child", "scopes": ["read"]}, format="json")
    assert created.status_code == 403, created.content
    assert created.json()["error"]["code"] == "key_management_needs_owner"
    assert client.get("/api/v1/api-keys/").status_code == 403
    for target in (other, key):
        assert client.post(f"/api/v1/api-keys/{target.pk}/revoke/").status_code == 403
    assert ApiKey.objects.filter(organization=org).count() == 2
    assert ApiKey.objects.filter(revoked_at__isnull=False).count() == 0


def test_service_refuses_key_actors_and_non_owner_members(make_firm, actor_for):
    org = make_firm()
    owner = actor_for(org)
    key, _ = orgs.api_key_create(actor=owner, name="k", scopes=["read", "sell", "buy"])
    from exchange.actor import Actor

    as_key = Actor(type="api_key", api_key=key, organization=org)
    with pytest.raises(Forbidden):
        orgs.api_key_create(actor=as_key, name="child", scopes=["read"])
    with pytest.raises(Forbidden):
        orgs.api_key_revoke(actor=as_key, key=key)
    member = orgs.member_add(actor=owner, organization=org, username="analyst-sec", email="a@example.com",
                             password="a-Long-enough-pass-2026", role=Membership.Role.MEMBER)
    as_member = Actor(type="user", user=member.user, organization=org)
    with pytest.raises(Forbidden):
        orgs.api_key_create(actor=as_member, name="child", scopes=["read"])
    with pytest.raises(Forbidden):
        orgs.api_key_revoke(actor=as_member, key=key)
    assert ApiKey.objects.count() == 1 and ApiKey.objects.get().revoked_at is None


def test_owner_session_manages_keys_over_the_api(make_firm, actor_for):
    org = make_firm()
    client = APIClient()
    client.force_login(actor_for(org).user)
    created = client.post("/api/v1/api-keys/", {"name": "ERP", "scopes": ["read"]}, format="json")
    assert created.status_code == 201, created.content
    assert len(client.get("/api/v1/api-keys/").json()["results"]) == 1
    assert client.post(f"/api/v1/api-keys/{created.json()['id']}/revoke/").status_code == 200
    assert ApiKey.objects.get().revoked_at is not None


@pytest.fixture
def low_rates(settings):
    cache.clear()
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"anon": "3/min", "user": "100/min", "api_key": "5/min", "firm": "8/min"}
    settings.REST_FRAMEWORK = rest
    yield
    cache.clear()


def test_one_firm_exhausting_its_key_bucket_does_not_touch_another_firm(make_firm, actor_for, low_rates):
    a, b = make_firm(), make_firm()
    _, client_a = key_client(actor_for(a), ["read"])
    _, client_b = key_client(actor_for(b), ["read"])
    assert [client_a.get("/api/v1/datasets/").status_code for _ in range(5)] == [200] * 5
    limited = client_a.get("/api/v1/datasets/")
    assert limited.status_code == 429
    assert client_b.get("/api/v1/datasets/").status_code == 200


def test_a_firms_keys_share_the_firm_bucket(make_firm, actor_for, low_rates):
    a = make_firm()
    _, first = key_client(actor_for(a), ["read"])
    _, second = key_client(actor_for(a), ["read"])
    codes = [first.get("/api/v1/datasets/").status_code for _ in range(5)]
    codes += [second.get("/api/v1/datasets/").status_code for _ in range(4)]
    assert codes == [200] * 8 + [429]


def test_anonymous_callers_are_throttled_by_ip(db, low_rates):
    one, two = APIClient(REMOTE_ADDR="198.51.100.7"), APIClient(REMOTE_ADDR="198.51.100.8")
    assert [one.get("/api/v1/catalog/").status_code for _ in range(3)] == [200] * 3
    assert one.get("/api/v1/catalog/").status_code == 429
    assert two.get("/api/v1/catalog/").status_code == 200
