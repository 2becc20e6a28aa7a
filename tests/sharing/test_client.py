"""The official ``delta-sharing`` client (its own venv, a subprocess) against a live server
on loopback: what a buyer runs with the profile file from the delivery page."""

from __future__ import annotations

import pytest
from django.utils import timezone

from exchange.models import AuditEvent, Delivery, SharingToken

pytestmark = [pytest.mark.timeout(900)]


@pytest.fixture
def shared(ready_delivery, issue_profile, live_server):
    delivery = ready_delivery()
    profile = issue_profile(delivery, f"{live_server.url}/delta-sharing/")
    return delivery, profile


def test_load_as_pandas_returns_the_delivered_rows_and_counts_one_download(shared, run_client):
    delivery, profile = shared
    assert delivery.downloads_used == 0

    out = run_client("load", profile.body, profile.table.url_fragment)

    assert "http_error" not in out, out
    assert out["rows"] == 20 == delivery.parquet_rows
    assert out["columns"] == ["id", "text", "label"]
    assert out["dtypes"]["id"] == "int64"  # declared integer, every value valid: typed in the copy
    assert out["records"][0] == {"id": 1, "text": "review number 1 很好", "label": "pos"}
    assert out["records"][2] == {"id": 3, "text": "review number 3 很好", "label": "neg"}
    assert out["records"][-1]["id"] == 20
    delivery.refresh_from_db()
    assert delivery.downloads_used == 1  # one file fetched (a HEAD and ranged reads of one URL)
    fetches = AuditEvent.objects.filter(action="delivery.downloaded", object_id=str(delivery.pk))
    assert fetches.exists() and all(e.details["file"] == "parquet" for e in fetches)
    assert [e.details["counted"] for e in fetches].count(True) == 1
    assert {e.actor_type for e in fetches} == {"sharing_token"}
    assert AuditEvent.objects.filter(action="delta_sharing.queried", object_id=str(delivery.pk)).count() == 1


def test_sharing_client_lists_the_table(shared, run_client):
    delivery, profile = shared

    out = run_client("tables", profile.body)

    name = profile.table
    assert out == {"tables": [{"share": name.share, "schema": "shujiao", "name": name.table}]}
    assert "." not in name.share + name.schema + name.table
    assert name.table == "reviews"


def test_an_expired_token_gets_403_with_the_protocol_error_body(shared, run_client):
    delivery, profile = shared
    SharingToken.objects.filter(pk=profile.token.pk).update(expires_at=timezone.now() - timezone.timedelta(seconds=1))

    out = run_client("load", profile.body, profile.table.url_fragment)

    assert out["http_error"] == 403
    assert out["body"]["errorCode"] == "PERMISSION_DENIED"
    assert "expired" in out["body"]["message"] and set(out["body"]) == {"errorCode", "message"}
    delivery.refresh_from_db()
    assert delivery.downloads_used == 0


def test_a_revoked_delivery_ends_the_token_403(shared, run_client, staff_actor):
    from exchange.services.delivery import delivery_revoke

    delivery, profile = shared
    delivery_revoke(actor=staff_actor, delivery_id=delivery.pk, reason="Seller withdrew consent")

    out = run_client("tables", profile.body)

    assert out["http_error"] == 403
    assert out["body"]["errorCode"] == "PERMISSION_DENIED" and "revoked" in out["body"]["message"]
    assert SharingToken.objects.get(pk=profile.token.pk).revoked_at is not None
    assert Delivery.objects.get(pk=delivery.pk).downloads_used == 0


def test_a_new_profile_stops_the_previous_one(shared, issue_profile, live_server, run_client):
    delivery, old = shared
    new = issue_profile(delivery, f"{live_server.url}/delta-sharing")

    assert run_client("tables", old.body)["http_error"] == 403
    assert run_client("tables", new.body)["tables"][0]["name"] == "reviews"


def test_an_unknown_token_gets_401(shared, run_client):
    _delivery, profile = shared

    out = run_client("tables", {**profile.body, "bearerToken": "not-a-token"})

    assert out["http_error"] == 401 and out["body"]["errorCode"] == "UNAUTHENTICATED"


def test_on_s3_storage_the_copy_is_an_object_and_the_client_reads_it(s3_storage, ready_delivery, issue_profile,
                                                                     live_server, run_client):
    server, bucket = s3_storage
    delivery = ready_delivery()
    assert delivery.parquet_name in server.keys(bucket, f"deliveries/{delivery.pk}/")
    profile = issue_profile(delivery, f"{live_server.url}/delta-sharing")

    out = run_client("load", profile.body, profile.table.url_fragment)

    assert out.get("rows") == 20, out
    assert out["records"][1] == {"id": 2, "text": "review number 2 很好", "label": "pos"}
