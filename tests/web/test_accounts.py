from django.contrib.auth import get_user_model
from django.urls import reverse

from exchange.models import Membership, Organization
from exchange.validators import credit_code_check_character

FIRST17 = "91330106MA2H00001"
VALID_CODE = FIRST17 + credit_code_check_character(FIRST17)


def signup_data(**overrides):
    data = {"name": "杭州安防视频有限公司", "credit_code": VALID_CODE, "city": "杭州 Hangzhou", "description": "Security video",
            "username": "hz-owner", "email": "owner@example.com",
            "password1": "a-Long-enough-pass-2026", "password2": "a-Long-enough-pass-2026"}
    data.update(overrides)
    return data


def test_signup_registers_the_firm_and_signs_the_owner_in(client, db):
    response = client.post(reverse("web:signup"), signup_data())

    assert response.status_code == 302
    assert response["Location"] == reverse("web:firm")
    org = Organization.objects.get()
    assert (org.name, org.credit_code, org.city, org.verification_status) == (
        "杭州安防视频有限公司", VALID_CODE, "杭州 Hangzhou", "pending")
    assert Membership.objects.get().role == "owner"
    page = client.get(reverse("web:firm"))
    assert "pending verification by exchange staff" in page.content.decode()
    assert "杭州安防视频有限公司" in page.content.decode()


def test_signup_with_invalid_credit_code_shows_the_service_message_and_writes_nothing(client, db):
    bad = VALID_CODE[:17] + ("0" if VALID_CODE[17] != "0" else "1")

    response = client.post(reverse("web:signup"), signup_data(credit_code=bad))

    assert response.status_code == 200
    errors = response.context["form"].errors["credit_code"]
    assert len(errors) == 1
    assert errors[0].startswith("Invalid unified social credit code: check character is")
    assert Organization.objects.count() == 0
    assert get_user_model().objects.count() == 0


def test_signup_password_mismatch_is_a_form_error(client, db):
    response = client.post(reverse("web:signup"), signup_data(password2="something-else-2026"))

    assert response.status_code == 200
    assert response.context["form"].errors["password2"] == ["The two passwords differ."]
    assert Organization.objects.count() == 0


def test_login_page_and_login_and_logout(client, seller):
    assert client.get(reverse("web:login")).status_code == 200

    response = client.post(reverse("web:login"), {"username": "seller", "password": "a-Long-enough-pass-2026"})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:catalog")
    assert seller.name in client.get(reverse("web:catalog")).content.decode()

    assert client.post(reverse("web:logout")).status_code == 302
    assert client.get(reverse("web:firm"))["Location"].startswith(reverse("web:login"))


def test_seller_pages_require_login(client, db):
    for name in ("web:datasets", "web:dataset-new", "web:listings", "web:firm"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:login") + "?next=")


def test_user_without_a_firm_gets_a_403_page(client, db):
    user = get_user_model().objects.create_user("loner", "l@example.com", "x-pass-2026-long")
    client.force_login(user)

    response = client.get(reverse("web:datasets"))

    assert response.status_code == 403
    assert "does not belong to a firm" in response.content.decode()
