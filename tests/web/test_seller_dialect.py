"""The CSV Dialect on the seller's dataset form and page."""

from django.urls import reverse

from exchange.models import Dataset
from tests.web.test_seller import dataset_form


def test_dataset_form_stores_a_declared_dialect_and_the_page_shows_it(seller_client):
    response = seller_client.post(reverse("web:dataset-new"), dataset_form(dialect='{"delimiter": "\\t", "header": false}'))
    dataset = Dataset.objects.get()
    assert response.status_code == 302
    assert dataset.dialect == {"delimiter": "\t", "header": False}
    page = seller_client.get(reverse("web:dataset", args=[dataset.pk])).content.decode()
    assert "delimiter=&#x27;\\t&#x27;" in page and "header=False" in page


def test_empty_dialect_means_none(seller_client):
    seller_client.post(reverse("web:dataset-new"), dataset_form(dialect="  "))
    assert Dataset.objects.get().dialect == {}


def test_dialect_with_unknown_property_is_a_form_error_naming_it(seller_client):
    response = seller_client.post(reverse("web:dataset-new"), dataset_form(dialect='{"encoding": "gbk"}'))
    assert response.status_code == 200
    errors = response.context["form"].errors["dialect"]
    assert errors[0].startswith("dialect.encoding: unsupported property")
    assert Dataset.objects.count() == 0


def test_dialect_that_is_not_json_is_a_form_error(seller_client):
    response = seller_client.post(reverse("web:dataset-new"), dataset_form(dialect='{"delimiter": ;}'))
    assert response.context["form"].errors["dialect"][0].startswith("Invalid JSON:")
    response = seller_client.post(reverse("web:dataset-new"), dataset_form(dialect='[";"]'))
    assert response.context["form"].errors["dialect"] == ["The dialect must be a JSON object ({…}), not a list."]
    assert Dataset.objects.count() == 0
