"""A chunked upload (no Content-Length) is answered 411 with a message, never read as 'no file'."""

from rest_framework.test import APIClient

from exchange.models import DatasetVersion
from tests.factories import csv_bytes, make_dataset

CHUNKED = {"HTTP_TRANSFER_ENCODING": "chunked", "CONTENT_LENGTH": ""}  # the WSGI environ gunicorn builds


def test_api_chunked_upload_is_411_with_a_json_message(make_firm, actor_for):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    client = APIClient()
    client.force_login(actor.user)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(f"/api/v1/datasets/{dataset.pk}/versions/",
                           {"file": SimpleUploadedFile("d.csv", csv_bytes())}, format="multipart", **CHUNKED)
    assert response.status_code == 411, response.content
    error = response.json()["error"]
    assert error["code"] == "length_required" and "Content-Length" in error["message"]
    assert DatasetVersion.objects.count() == 0


def test_web_chunked_upload_is_a_form_error(make_firm, actor_for, client):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    client.force_login(actor.user)
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    response = client.post(reverse("web:dataset", args=[dataset.pk]),
                           {"file": SimpleUploadedFile("d.csv", csv_bytes())}, **CHUNKED)
    body = response.content.decode()
    assert "chunked transfer encoding is not supported" in body and "Attach a data file" not in body
    assert DatasetVersion.objects.count() == 0
