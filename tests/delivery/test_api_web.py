"""Deliveries over REST and on the web: who sees what, link creation, the buyer's page."""

from __future__ import annotations

import pytest

from exchange.models import DownloadLink
from tests.delivery.test_downloads import api_key, owner

pytestmark = pytest.mark.django_db


def test_anonymous_callers_get_401(ready_delivery, client):
    delivery = ready_delivery()
    assert client.get("/api/v1/deliveries/").status_code == 401
    assert client.get(f"/api/v1/deliveries/{delivery.pk}/").status_code == 401
    assert client.post(f"/api/v1/deliveries/{delivery.pk}/links/").status_code == 401
    assert DownloadLink.objects.count() == 0


def test_buyer_lists_and_reads_its_delivery_with_the_manifest(ready_delivery, client):
    delivery = ready_delivery()
    client.force_login(owner(delivery.contract.buyer))
    listing = client.get("/api/v1/deliveries/").json()
    assert [d["id"] for d in listing["results"]] == [str(delivery.pk)]
    row = listing["results"][0]
    assert (row["role"], row["status"], row["percent"], row["key_id"]) == ("buyer", "ready", 100.0, delivery.key_id)
    assert row["keys_url"] == "http://testserver/.well-known/shujiao/keys.json"
    detail = client.get(f"/api/v1/deliveries/{delivery.pk}/").json()
    assert detail["manifest"] == delivery.manifest
    assert detail["package_sha256"] == delivery.package_sha256 and detail["download_limit"] == 3


def test_seller_sees_the_state_of_its_sale_but_no_manifest_and_no_link(ready_delivery, client):
    delivery = ready_delivery()
    client.force_login(owner(delivery.contract.seller))
    detail = client.get(f"/api/v1/deliveries/{delivery.pk}/").json()
    assert (detail["role"], detail["status"], detail["manifest"]) == ("seller", "ready", None)
    response = client.post(f"/api/v1/deliveries/{delivery.pk}/links/")
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_buyer"
    assert DownloadLink.objects.count() == 0


def test_another_firm_sees_nothing(ready_delivery, client, make_firm):
    delivery = ready_delivery()
    other = make_firm("Nosy Co")
    key = api_key(other, scopes=("read", "buy", "sell"))
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    assert client.get("/api/v1/deliveries/", **auth).json()["results"] == []
    assert client.get(f"/api/v1/deliveries/{delivery.pk}/", **auth).status_code == 404
    assert client.post(f"/api/v1/deliveries/{delivery.pk}/links/", **auth).status_code == 404
    assert DownloadLink.objects.count() == 0


def test_schema_documents_the_delivery_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/v1/deliveries/" in schema["paths"]
    assert "/api/v1/deliveries/{id}/links/" in schema["paths"]


def test_buyer_page_shows_status_download_and_copyable_verification_commands(ready_delivery, client):
    delivery = ready_delivery()
    client.force_login(owner(delivery.contract.buyer))
    page = client.get("/deliveries/")
    assert page.status_code == 200
    assert delivery.contract.listing.title in page.content.decode()
    detail = client.get(f"/deliveries/{delivery.pk}/").content.decode()
    kid = delivery.key_id
    assert f"curl -o exchange-{kid}.pem http://testserver/.well-known/shujiao/keys/{kid}.pem" in detail
    assert (f"openssl pkeyutl -verify -pubin -inkey ../exchange-{kid}.pem -rawin -in manifest.json "
            "-sigfile manifest.sig") in detail
    assert "sha256sum -c SHA256SUMS" in detail
    assert "python3 shujiao_verify.py shujiao-product-reviews-" in detail
    assert "--keys http://testserver/.well-known/shujiao/keys.json" in detail
    assert "Download package" in detail


def test_download_button_creates_a_link_and_redirects_to_it(ready_delivery, client):
    delivery = ready_delivery()
    client.force_login(owner(delivery.contract.buyer))
    response = client.post(f"/deliveries/{delivery.pk}/download/")
    assert response.status_code == 302 and response["Location"].startswith("/d/")
    download = client.get(response["Location"])
    assert download.status_code == 200
    assert len(b"".join(download.streaming_content)) == delivery.package_size


def test_status_json_reports_progress_for_both_parties_only(paid_contract, client, make_firm):
    delivery = paid_contract().delivery
    client.force_login(owner(delivery.contract.buyer))
    data = client.get(f"/deliveries/{delivery.pk}/status.json").json()
    assert (data["status"], data["percent"], data["bytes_total"]) == ("queued", 0.0, delivery.bytes_total)
    client.force_login(owner(delivery.contract.seller))
    assert client.get(f"/deliveries/{delivery.pk}/status.json").status_code == 200
    client.force_login(owner(make_firm("Stranger")))
    assert client.get(f"/deliveries/{delivery.pk}/status.json").status_code == 404
    assert client.get(f"/deliveries/{delivery.pk}/").status_code == 404
    assert client.post(f"/deliveries/{delivery.pk}/download/").status_code == 404


def test_download_button_over_the_limit_says_so_on_the_page(ready_delivery, client):
    delivery = ready_delivery(download_limit=1)
    client.force_login(owner(delivery.contract.buyer))
    client.get(client.post(f"/deliveries/{delivery.pk}/download/")["Location"])
    response = client.post(f"/deliveries/{delivery.pk}/download/", follow=True)
    assert "The licence allows 1 download of this delivery and all 1 have been used." in response.content.decode()
    assert DownloadLink.objects.count() == 1


# --- Admin ---------------------------------------------------------------------------
def test_admin_revoke_asks_for_a_reason_and_audits(ready_delivery, client, staff_actor):
    from exchange.models import AuditEvent, Delivery

    delivery = ready_delivery()
    client.force_login(staff_actor.user)
    url = "/admin/exchange/delivery/"
    assert client.get(url).status_code == 200
    assert client.get(f"{url}{delivery.pk}/change/").status_code == 200
    ask = client.post(url, {"action": "revoke", "_selected_action": [str(delivery.pk)]})
    assert ask.status_code == 200 and b"reason" in ask.content
    empty = client.post(url, {"action": "revoke", "_selected_action": [str(delivery.pk)], "apply": "1", "reason": ""})
    assert empty.status_code == 200
    assert Delivery.objects.get(pk=delivery.pk).status == "ready"
    done = client.post(url, {"action": "revoke", "_selected_action": [str(delivery.pk)], "apply": "1",
                             "reason": "Licence breach"})
    assert done.status_code == 302
    assert Delivery.objects.get(pk=delivery.pk).status == "revoked"
    event = AuditEvent.objects.get(action="delivery.revoked")
    assert (event.actor_id, event.details["reason"]) == (str(staff_actor.user.pk), "Licence breach")


def test_admin_lists_signing_keys_without_private_parts(signing_key, client, staff_actor):
    client.force_login(staff_actor.user)
    listing = client.get("/admin/exchange/signingkey/")
    page = client.get(f"/admin/exchange/signingkey/{signing_key.pk}/change/")
    assert listing.status_code == 200 and page.status_code == 200
    assert signing_key.kid in listing.content.decode()
    assert "PUBLIC KEY" in page.content.decode()
    assert b"ENCRYPTED PRIVATE KEY" not in page.content and b"PRIVATE" not in listing.content
