"""A firm's owner creates the first API key with username and password: no browser, session or CSRF."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from exchange.models import ApiKey, AuditEvent, Membership
from exchange.services import orgs

URL = "/api/v1/auth/keys/"
PASSWORD = "a-Long-enough-pass-2026"  # tests/conftest.py make_firm


def owner_name(org) -> str:
    return org.memberships.get(role=Membership.Role.OWNER).user.username


def test_owner_gets_a_working_key_with_the_scopes_asked_for(make_firm):
    org = make_firm()
    client = APIClient(enforce_csrf_checks=True)  # as a script: no session, no CSRF token
    expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)

    created = client.post(URL, {"username": owner_name(org), "password": PASSWORD, "name": "ERP",
                                "scopes": ["sell", "read"], "expires_at": expires.isoformat()}, format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["key"].startswith("sjk_") and body["scopes"] == ["read", "sell"] and body["name"] == "ERP"
    assert created["Cache-Control"] == "no-store"
    key = ApiKey.objects.get(organization=org)
    assert key.expires_at == expires and key.created_by.username == owner_name(org)
    event = AuditEvent.objects.get(action="api_key.created")
    assert event.details["via"] == "password" and event.details["prefix"] == key.prefix
    assert event.actor_label == owner_name(org)
    with_key = APIClient()
    with_key.credentials(HTTP_AUTHORIZATION=f"Api-Key {body['key']}")
    assert with_key.get("/api/v1/organization/").json()["id"] == str(org.pk)


def test_wrong_password_is_401_and_makes_nothing(make_firm):
    org = make_firm()
    answer = APIClient().post(URL, {"username": owner_name(org), "password": "wrong", "name": "x",
                                    "scopes": ["read"]}, format="json")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "invalid_credentials"
    assert answer["WWW-Authenticate"] == "Api-Key"
    assert ApiKey.objects.count() == 0


def test_a_member_who_is_not_an_owner_is_refused_and_the_attempt_audited(make_firm, actor_for):
    org = make_firm()
    orgs.member_add(actor=actor_for(org), organization=org, username="analyst", email="a@example.com",
                    password=PASSWORD, role=Membership.Role.MEMBER)
    answer = APIClient().post(URL, {"username": "analyst", "password": PASSWORD, "name": "x", "scopes": ["read"]},
                              format="json")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "key_management_needs_owner"
    assert ApiKey.objects.count() == 0
    refused = AuditEvent.objects.get(action="api_key.bootstrap_refused")
    assert refused.details == {"username": "analyst", "role": "member"}


@pytest.mark.parametrize("change,field", [({"scopes": ["admin"]}, "scopes"), ({"scopes": []}, "scopes"),
                                          ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
                                          ({"name": ""}, "name")])
def test_the_rules_of_key_creation_apply(make_firm, change, field):
    org = make_firm()
    body = {"username": owner_name(org), "password": PASSWORD, "name": "ERP", "scopes": ["read"], **change}
    answer = APIClient().post(URL, body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["error"]["fields"]
    assert ApiKey.objects.count() == 0


def test_a_session_is_not_enough(make_firm):
    """The endpoint reads only the password: a signed-in browser without it gets 400, not a key."""
    org = make_firm()
    client = APIClient()
    client.force_login(org.memberships.get().user)
    answer = client.post(URL, {"name": "ERP", "scopes": ["read"]}, format="json")
    assert answer.status_code == 400
    assert set(answer.json()["error"]["fields"]) == {"username", "password"}
    assert ApiKey.objects.count() == 0


def test_attempts_are_throttled_per_ip_whatever_the_username(make_firm, settings):
    org = make_firm()
    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "key_bootstrap": "3/hour"}}
    guesses = [APIClient().post(URL, {"username": f"u{i}", "password": "x", "name": "x", "scopes": ["read"]},
                                format="json", REMOTE_ADDR="203.0.113.7").status_code for i in range(3)]
    assert guesses == [401, 401, 401]
    blocked = APIClient().post(URL, {"username": owner_name(org), "password": PASSWORD, "name": "x",
                                     "scopes": ["read"]}, format="json", REMOTE_ADDR="203.0.113.7")
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    other_ip = APIClient().post(URL, {"username": owner_name(org), "password": PASSWORD, "name": "x",
                                      "scopes": ["read"]}, format="json", REMOTE_ADDR="198.51.100.2")
    assert other_ip.status_code == 201
    assert ApiKey.objects.count() == 1
    cache.clear()
