import hashlib

from django.urls import reverse

from exchange.models import ApiKey, Membership
from tests.web.conftest import client_for


def test_firm_page_shows_details_members_and_keys(seller_client, seller):
    response = seller_client.get(reverse("web:firm"))

    body = response.content.decode()
    assert response.status_code == 200
    assert seller.credit_code in body
    assert "✓ Verified" in body
    assert "seller" in body
    assert "No API keys yet." in body


def test_api_key_create_shows_the_secret_once_and_stores_only_its_hash(seller_client, seller):
    response = seller_client.post(reverse("web:api-key-create"), {"name": "ETL 管道", "scopes": ["read", "sell"]})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["secret"]
    key = ApiKey.objects.get()
    assert secret in response.content.decode()
    assert "It is shown only once" in response.content.decode()
    assert (key.organization, key.name, key.scopes) == (seller, "ETL 管道", ["read", "sell"])
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {key.name, key.prefix, key.key_hash}
    listing_page = seller_client.get(reverse("web:firm")).content.decode()
    assert key.prefix in listing_page
    assert secret not in listing_page


def test_api_key_create_with_past_expiry_shows_the_services_error(seller_client):
    response = seller_client.post(reverse("web:api-key-create"), {"name": "old", "scopes": ["read"], "expires_on": "2001-01-01"})

    assert response.status_code == 200
    assert response.context["key_form"].errors["expires_on"] == ["The expiry must be in the future."]
    assert ApiKey.objects.count() == 0


def test_api_key_create_needs_a_scope(seller_client):
    response = seller_client.post(reverse("web:api-key-create"), {"name": "none"})

    assert response.context["key_form"].errors["scopes"] == ["This field is required."]
    assert ApiKey.objects.count() == 0


def test_api_key_revoke(seller_client):
    seller_client.post(reverse("web:api-key-create"), {"name": "ci", "scopes": ["read"]})
    key = ApiKey.objects.get()

    response = seller_client.post(reverse("web:api-key-revoke", args=[key.pk]), follow=True)

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert f"API key “ci” ({key.prefix}…) is revoked." in response.content.decode()
    again = seller_client.post(reverse("web:api-key-revoke", args=[key.pk]), follow=True)
    assert "This API key is already revoked." in again.content.decode()


def test_another_firms_api_key_cannot_be_revoked(seller_client, buyer_client):
    seller_client.post(reverse("web:api-key-create"), {"name": "ci", "scopes": ["read"]})
    key = ApiKey.objects.get()

    assert buyer_client.post(reverse("web:api-key-revoke", args=[key.pk])).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_revoke_needs_post(seller_client):
    seller_client.post(reverse("web:api-key-create"), {"name": "ci", "scopes": ["read"]})
    key = ApiKey.objects.get()

    assert seller_client.get(reverse("web:api-key-revoke", args=[key.pk])).status_code == 405


def test_owner_adds_a_member(seller_client, seller):
    response = seller_client.post(reverse("web:member-add"), {
        "username": "colleague", "email": "c@example.com", "role": "member",
        "password1": "a-Long-enough-pass-2026", "password2": "a-Long-enough-pass-2026"})

    assert response.status_code == 302
    membership = Membership.objects.get(user__username="colleague")
    assert (membership.organization, membership.role) == (seller, "member")


def test_member_cannot_add_members(seller_client, seller):
    seller_client.post(reverse("web:member-add"), {
        "username": "colleague", "email": "c@example.com", "role": "member",
        "password1": "a-Long-enough-pass-2026", "password2": "a-Long-enough-pass-2026"})
    member_client = client_for(seller)
    member_client.force_login(Membership.objects.get(user__username="colleague").user)

    response = member_client.post(reverse("web:member-add"), {
        "username": "third", "email": "t@example.com", "role": "member",
        "password1": "a-Long-enough-pass-2026", "password2": "a-Long-enough-pass-2026"})

    assert response.status_code == 200
    assert response.context["member_form"].non_field_errors() == ["Only an owner of the firm can do this."]
    assert Membership.objects.filter(user__username="third").count() == 0
