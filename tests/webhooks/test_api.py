"""Webhook endpoints over REST: create (secret once), change, enable/disable, rotate, the log
and replay; an owner's session or a key with the webhooks scope; another firm's id is 404."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from exchange.models import WebhookEndpoint, WebhookMessage
from exchange.services import orgs
from exchange.services import webhooks as svc
from workers.webhook_tasks import deliver_webhooks

pytestmark = pytest.mark.django_db
BASE = "/api/v1/webhook-endpoints/"


def owner_client(actor_for, firm) -> APIClient:
    client = APIClient()
    client.force_login(actor_for(firm).user)
    return client


def key_client(actor_for, firm, scopes) -> APIClient:
    _key, secret = orgs.api_key_create(actor=actor_for(firm), name="k", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


def test_create_shows_the_secret_once_then_list_and_detail_never_do(make_firm, actor_for, receiver):
    firm = make_firm()
    client = key_client(actor_for, firm, ["webhooks"])

    created = client.post(BASE, {"url": receiver.url, "event_types": ["delivery.ready"], "description": "ERP"},
                          format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert (body["url"], body["event_types"], body["is_active"]) == (receiver.url, ["delivery.ready"], True)
    listed = client.get(BASE).json()
    assert [e["id"] for e in listed["results"]] == [body["id"]]
    detail = client.get(f"{BASE}{body['id']}/").json()
    assert "secret" not in detail and "secret" not in listed["results"][0]


def test_bad_input_is_a_400_naming_the_field(make_firm, actor_for):
    client = owner_client(actor_for, make_firm())
    bad_events = client.post(BASE, {"url": "https://hooks.example.com/x", "event_types": ["contract.stolen"]},
                             format="json")
    assert bad_events.status_code == 400
    assert bad_events.json()["error"]["fields"]["event_types"][0].startswith("Unknown: contract.stolen; known: ")
    no_url = client.post(BASE, {"event_types": ["contract.paid"]}, format="json")
    assert no_url.status_code == 400 and "url" in no_url.json()["error"]["fields"]
    not_a_list = client.post(BASE, {"url": "https://hooks.example.com/x", "event_types": "contract.paid"}, format="json")
    assert not_a_list.status_code == 400 and "event_types" in not_a_list.json()["error"]["fields"]
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize("scopes", [["read"], ["read", "sell", "buy"]])
def test_keys_without_the_webhooks_scope_are_refused(make_firm, actor_for, make_endpoint, scopes):
    firm = make_firm()
    endpoint, _ = make_endpoint(firm, "https://hooks.example.com/x")
    client = key_client(actor_for, firm, scopes)
    for method, path in (("get", BASE), ("post", BASE), ("get", f"{BASE}{endpoint.pk}/"),
                         ("post", f"{BASE}{endpoint.pk}/disable/"), ("post", f"{BASE}{endpoint.pk}/rotate-secret/")):
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["code"] == "missing_scope"
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_another_firms_endpoint_answers_exactly_like_an_unknown_id(make_firm, actor_for, make_endpoint, receiver):
    mine, theirs = make_firm(), make_firm()
    endpoint, _ = make_endpoint(theirs, receiver.url)
    svc.emit("contract.paid", theirs, {"contract": "c-1"})
    msg_id = WebhookMessage.objects.get().msg_id
    client = owner_client(actor_for, mine)
    for suffix, method in (("", "get"), ("", "patch"), ("enable/", "post"), ("disable/", "post"),
                           ("rotate-secret/", "post"), ("messages/", "get"), ("attempts/", "get"),
                           (f"messages/{msg_id}/replay/", "post")):
        theirs_answer = getattr(client, method)(f"{BASE}{endpoint.pk}/{suffix}", {}, format="json")
        unknown = getattr(client, method)(f"{BASE}3f0b6f7e-8a43-4c5e-9a1d-0d6f4b1f2a3c/{suffix}", {}, format="json")
        assert theirs_answer.status_code == unknown.status_code == 404, suffix
        assert theirs_answer.json() == unknown.json() == {
            "error": {"code": "not_found", "message": "No such webhook endpoint.", "fields": {}}}
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.previous_secret == ""


def test_patch_disable_enable_and_rotate(make_firm, actor_for, make_endpoint):
    firm = make_firm()
    endpoint, old_secret = make_endpoint(firm, "https://hooks.example.com/x", events=["contract.paid"])
    client = owner_client(actor_for, firm)

    patched = client.patch(f"{BASE}{endpoint.pk}/", {"event_types": ["delivery.ready"]}, format="json")
    assert patched.status_code == 200
    assert (patched.json()["event_types"], patched.json()["url"]) == (["delivery.ready"], "https://hooks.example.com/x")
    assert client.post(f"{BASE}{endpoint.pk}/disable/").json()["is_active"] is False
    assert client.post(f"{BASE}{endpoint.pk}/disable/").status_code == 409
    assert client.post(f"{BASE}{endpoint.pk}/enable/").json()["is_active"] is True
    rotated = client.post(f"{BASE}{endpoint.pk}/rotate-secret/")
    assert rotated.status_code == 200 and rotated["Cache-Control"] == "no-store"
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != old_secret
    assert rotated.json()["rotation_ends_at"] is not None


def test_the_log_lists_attempts_and_a_replay_sends_again(make_firm, actor_for, make_endpoint, receiver):
    firm = make_firm()
    endpoint, _ = make_endpoint(firm, receiver.url)
    svc.emit("contract.paid", firm, {"contract": "c-1"})
    receiver.fail_first = 1
    deliver_webhooks(str(endpoint.pk), now=timezone.now().isoformat())
    client = owner_client(actor_for, firm)

    attempts = client.get(f"{BASE}{endpoint.pk}/attempts/").json()["results"]
    assert [(a["number"], a["status_code"], a["ok"], a["response_excerpt"]) for a in attempts] == [
        (1, 503, False, "answer 503 to call 1")]
    message = client.get(f"{BASE}{endpoint.pk}/messages/").json()["results"][0]
    assert (message["status"], message["attempts"], message["last_status_code"]) == ("pending", 1, 503)

    replay = client.post(f"{BASE}{endpoint.pk}/messages/{message['webhook_id']}/replay/")
    assert replay.status_code == 202
    deliver_webhooks(str(endpoint.pk), now=timezone.now().isoformat())
    attempts = client.get(f"{BASE}{endpoint.pk}/attempts/").json()["results"]
    assert [(a["number"], a["ok"], a["manual"]) for a in attempts] == [(2, True, True), (1, False, False)]
    unknown = client.post(f"{BASE}{endpoint.pk}/messages/msg_nope/replay/")
    assert unknown.status_code == 404 and unknown.json()["error"]["message"] == "No such webhook message."
