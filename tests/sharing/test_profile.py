"""Profile files: issued to the buyer on the web and over REST, the token kept only as a hash."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.db import connection

from exchange.models import AuditEvent, SharingToken
from exchange.services.sharing import table_name as sharing_name
from tests.delivery.test_downloads import api_key, owner

pytestmark = pytest.mark.django_db


def test_the_api_returns_the_profile_file_and_stores_only_the_tokens_hash(ready_delivery, client):
    delivery = ready_delivery()
    key = api_key(delivery.contract.buyer, scopes=("read", "buy"))

    response = client.post(f"/api/v1/deliveries/{delivery.pk}/sharing-profile/", HTTP_AUTHORIZATION=f"Api-Key {key}")

    assert response.status_code == 201
    assert response["Content-Disposition"].startswith('attachment; filename="shujiao-contract_')
    profile = json.loads(response.content)
    assert set(profile) == {"shareCredentialsVersion", "endpoint", "bearerToken", "expirationTime"}
    assert profile["shareCredentialsVersion"] == 1
    assert profile["endpoint"] == "http://testserver/delta-sharing"
    assert profile["expirationTime"] == delivery.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")  # the licence's end
    token = profile["bearerToken"]
    assert len(token) >= 43
    stored = SharingToken.objects.get()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and stored.expires_at == delivery.expires_at
    with connection.cursor() as cursor:  # the token itself is in no column of the table
        cursor.execute("SELECT * FROM exchange_sharingtoken")
        assert not any(token in str(value) for row in cursor.fetchall() for value in row)
    table = response["Shujiao-Delta-Sharing-Table"]
    assert client.get(f"/api/v1/deliveries/{delivery.pk}/",
                      HTTP_AUTHORIZATION=f"Api-Key {key}").json()["delta_sharing_table"] == table
    assert table == f"contract_{delivery.contract_id.hex[:12]}.shujiao.reviews"
    (event,) = AuditEvent.objects.filter(action="delta_sharing.profile_issued")
    assert event.details["sharing_token"] == str(stored.pk) and token not in json.dumps(event.details)


def test_a_key_without_buy_the_seller_and_other_firms_get_no_profile(ready_delivery, client, make_firm):
    delivery = ready_delivery()
    url = f"/api/v1/deliveries/{delivery.pk}/sharing-profile/"
    read_only = api_key(delivery.contract.buyer, scopes=("read",))
    response = client.post(url, HTTP_AUTHORIZATION=f"Api-Key {read_only}")
    assert response.status_code == 403 and response.json()["error"]["code"] == "missing_scope"
    seller = api_key(delivery.contract.seller, scopes=("read", "buy", "sell"))
    response = client.post(url, HTTP_AUTHORIZATION=f"Api-Key {seller}")
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_buyer"
    other = api_key(make_firm("Nosy Co"), scopes=("read", "buy"))
    assert client.post(url, HTTP_AUTHORIZATION=f"Api-Key {other}").status_code == 404
    assert client.post(url).status_code == 401
    assert SharingToken.objects.count() == 0


def test_no_profile_for_a_delivery_that_is_not_ready_or_has_no_table(paid_contract, ready_delivery, client):
    from exchange.models import Delivery

    queued = paid_contract().delivery
    client.force_login(owner(queued.contract.buyer))
    response = client.post(f"/api/v1/deliveries/{queued.pk}/sharing-profile/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "delivery_not_shareable"

    delivery = ready_delivery()
    Delivery.objects.filter(pk=delivery.pk).update(parquet_name="", parquet_error="The table could not be converted")
    client.force_login(owner(delivery.contract.buyer))
    response = client.post(f"/api/v1/deliveries/{delivery.pk}/sharing-profile/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_table"
    assert "could not be converted" in response.json()["error"]["message"]
    assert SharingToken.objects.count() == 0


def test_the_delivery_page_shows_the_two_lines_and_downloads_the_profile(ready_delivery, client):
    delivery = ready_delivery()
    client.force_login(owner(delivery.contract.buyer))

    page = client.get(f"/deliveries/{delivery.pk}/").content.decode()
    share = f"contract_{delivery.contract_id.hex[:12]}"
    assert "Read it with Delta Sharing" in page and "import delta_sharing" in page
    assert f"delta_sharing.load_as_pandas(&quot;shujiao-{share}.share#{share}.shujiao.reviews&quot;)" in page

    response = client.post(f"/deliveries/{delivery.pk}/delta-sharing-profile/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="shujiao-{share}.share"'
    first = json.loads(response.content)
    assert first["endpoint"] == "http://testserver/delta-sharing"
    second = json.loads(client.post(f"/deliveries/{delivery.pk}/delta-sharing-profile/").content)
    assert first["bearerToken"] != second["bearerToken"]
    assert SharingToken.objects.filter(revoked_at__isnull=True).count() == 1  # the first one was stopped


def test_the_seller_page_offers_no_profile_and_the_web_post_says_why(ready_delivery, client):
    delivery = ready_delivery()
    client.force_login(owner(delivery.contract.seller))
    assert "Read it with Delta Sharing" not in client.get(f"/deliveries/{delivery.pk}/").content.decode()
    response = client.post(f"/deliveries/{delivery.pk}/delta-sharing-profile/", follow=True)
    assert "Only the buying firm can read this delivery over Delta Sharing." in response.content.decode()
    assert SharingToken.objects.count() == 0


def test_the_endpoint_setting_wins_over_the_request(ready_delivery, client, settings):
    settings.DELTA_SHARING_ENDPOINT = "https://data.example.cn/delta-sharing"
    delivery = ready_delivery()
    client.force_login(owner(delivery.contract.buyer))
    profile = client.post(f"/api/v1/deliveries/{delivery.pk}/sharing-profile/").json()
    assert profile["endpoint"] == "https://data.example.cn/delta-sharing"
    client.logout()
    n = sharing_name(delivery)
    answer = client.post(f"/delta-sharing/shares/{n.share}/schemas/{n.schema}/tables/{n.table}/query",
                         data="{}", content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {profile['bearerToken']}")
    url = json.loads(answer.content.decode().splitlines()[2])["file"]["url"]
    assert url.startswith("https://data.example.cn/delta-sharing/files/")  # file URLs on the public host too


def test_schema_documents_the_profile_endpoint(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/deliveries/{id}/sharing-profile/"]["post"]
    body = operation["responses"]["201"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/SharingProfileOut")
    fields = schema["components"]["schemas"]["SharingProfileOut"]["properties"]
    assert set(fields) == {"shareCredentialsVersion", "endpoint", "bearerToken", "expirationTime"}


def test_admin_shows_the_tokens_without_their_hash_and_its_revoke_ends_them(ready_delivery, issue_profile, client,
                                                                          staff_actor):
    delivery = ready_delivery()
    profile = issue_profile(delivery, "http://testserver/delta-sharing")
    client.force_login(staff_actor.user)
    page = client.get(f"/admin/exchange/delivery/{delivery.pk}/change/").content.decode()
    assert "Sharing token" in page and delivery.parquet_sha256 in page
    assert profile.token.token_hash not in page and profile.body["bearerToken"] not in page

    client.post("/admin/exchange/delivery/", {"action": "revoke", "_selected_action": [str(delivery.pk)],
                                              "apply": "1", "reason": "Licence breach"})

    token = SharingToken.objects.get(pk=profile.token.pk)
    assert token.revoked_at is not None and token.revoke_reason == "delivery revoked: Licence breach"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_profile_downloads_leave_exactly_one_live_token(ready_delivery, actor_for):
    from exchange.services import sharing
    from tests.trading.test_race import run_concurrently

    delivery = ready_delivery()
    actor = actor_for(delivery.contract.buyer)
    calls = [lambda: sharing.profile_issue(actor=actor, delivery_id=delivery.pk, endpoint="http://x/delta-sharing")
             for _ in range(8)]

    outcomes = run_concurrently(calls)

    assert all(isinstance(o, sharing.Profile) for o in outcomes), outcomes
    assert SharingToken.objects.count() == 8
    live = SharingToken.objects.filter(revoked_at__isnull=True)
    assert live.count() == 1
    newest = SharingToken.objects.order_by("-created_at").first()
    assert live.get() == newest  # the last issuer's token is the one that works
