"""The Delta Sharing REST protocol, request by request (Django test client)."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta

import pyarrow.parquet as pq
import pytest
from django.test import Client
from django.utils import timezone

from exchange.models import AuditEvent, Delivery, DownloadLink

PREFIX = "/delta-sharing"


@pytest.fixture
def shared(ready_delivery, issue_profile):
    delivery = ready_delivery()
    profile = issue_profile(delivery, "http://testserver/delta-sharing")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {profile.body['bearerToken']}")
    return delivery, profile, client


def table_path(profile, suffix: str) -> str:
    n = profile.table
    return f"{PREFIX}/shares/{n.share}/schemas/{n.schema}/tables/{n.table}/{suffix}"


def ndjson(response) -> list[dict]:
    return [json.loads(line) for line in response.content.decode().splitlines()]


def query(client, profile, body=None):
    return client.post(table_path(profile, "query"), data=json.dumps(body or {}), content_type="application/json")


def file_url(response) -> str:
    return ndjson(response)[2]["file"]["url"].removeprefix("http://testserver")


def test_without_a_token_every_endpoint_answers_401_in_the_error_body(shared):
    _d, profile, _c = shared
    for path in (f"{PREFIX}/shares", table_path(profile, "metadata")):
        response = Client().get(path)
        assert response.status_code == 401
        assert response.json() == {"errorCode": "UNAUTHENTICATED",
                                   "message": "A bearer token from a Shujiao profile file is required."}
        assert response["WWW-Authenticate"].startswith("Bearer")
    response = Client(HTTP_AUTHORIZATION="Bearer nope").get(f"{PREFIX}/shares")
    assert response.status_code == 401 and response.json()["message"] == "This bearer token is not known to the exchange."


def test_shares_schemas_tables_list_the_one_table(shared):
    delivery, profile, client = shared
    n = profile.table

    assert client.get(f"{PREFIX}/shares").json() == {"items": [{"name": n.share, "id": str(delivery.contract_id)}]}
    assert client.get(f"{PREFIX}/shares/{n.share}").json() == {"share": {"name": n.share, "id": str(delivery.contract_id)}}
    assert client.get(f"{PREFIX}/shares/{n.share}/schemas").json() == {"items": [{"name": "shujiao", "share": n.share}]}
    table = {"name": "reviews", "schema": "shujiao", "share": n.share, "shareId": str(delivery.contract_id),
             "id": str(delivery.pk)}
    assert client.get(f"{PREFIX}/shares/{n.share}/schemas/shujiao/tables").json() == {"items": [table]}
    assert client.get(f"{PREFIX}/shares/{n.share.upper()}/all-tables").json() == {"items": [table]}  # case-insensitive


def test_paging_parameters_are_honoured_and_checked(shared):
    _d, _p, client = shared
    assert client.get(f"{PREFIX}/shares?maxResults=0").json() == {"items": [], "nextPageToken": "0"}
    assert client.get(f"{PREFIX}/shares?maxResults=0&pageToken=0").status_code == 200
    for bad in ("maxResults=-1", "maxResults=ten", "pageToken=7"):
        response = client.get(f"{PREFIX}/shares?{bad}")
        assert response.status_code == 400 and response.json()["errorCode"] == "INVALID_PARAMETER_VALUE", bad


def test_another_share_schema_or_table_is_not_found(shared):
    _d, profile, client = shared
    n = profile.table
    for path in (f"{PREFIX}/shares/contract_000000000000", f"{PREFIX}/shares/{n.share}/schemas/other/tables",
                 f"{PREFIX}/shares/{n.share}/schemas/shujiao/tables/other/metadata", f"{PREFIX}/nothing/here"):
        response = client.get(path)
        assert response.status_code == 404 and response.json()["errorCode"] == "RESOURCE_DOES_NOT_EXIST", path


def test_version_metadata_and_query_carry_the_table_version(shared):
    delivery, profile, client = shared
    version = delivery.contract.dataset_version.number

    response = client.get(table_path(profile, "version"))
    assert response.status_code == 200 and response["delta-table-version"] == str(version)

    response = client.get(table_path(profile, "metadata"))
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert response["delta-table-version"] == str(version)
    lines = ndjson(response)
    assert [list(line) for line in lines] == [["protocol"], ["metaData"]]
    assert lines[0] == {"protocol": {"minReaderVersion": 1}}
    meta = lines[1]["metaData"]
    assert meta["id"] == str(delivery.pk) and meta["format"] == {"provider": "parquet"}
    assert meta["partitionColumns"] == []
    assert json.loads(meta["schemaString"]) == {"type": "struct", "fields": [
        {"name": "id", "type": "long", "nullable": True, "metadata": {}},
        {"name": "text", "type": "string", "nullable": True, "metadata": {}},
        {"name": "label", "type": "string", "nullable": True, "metadata": {}}]}


def test_query_answers_protocol_metadata_and_one_file_nothing_else(shared):
    delivery, profile, client = shared

    response = query(client, profile, {"limitHint": 5, "predicateHints": ["id > 3"]})

    assert response.status_code == 200 and response["delta-table-version"]
    lines = ndjson(response)
    assert [list(line) for line in lines] == [["protocol"], ["metaData"], ["file"]]
    f = lines[2]["file"]
    assert f["size"] == delivery.parquet_size and f["id"] == delivery.parquet_sha256
    assert f["partitionValues"] == {} and json.loads(f["stats"]) == {"numRecords": 20}
    link = DownloadLink.objects.get(kind="parquet")
    assert f["expirationTimestamp"] == int(link.expires_at.timestamp() * 1000)
    assert f["url"].startswith("http://testserver/delta-sharing/files/") and f["url"].endswith("/reviews.parquet")
    assert AuditEvent.objects.filter(action="delta_sharing.queried").count() == 1
    assert Delivery.objects.get(pk=delivery.pk).downloads_used == 0  # a query costs nothing


@pytest.mark.parametrize("body, fragment", [
    ({"version": 99}, "Only the current version"), ({"startingVersion": 0}, "change data feed"),
    ({"timestamp": "2026-01-01T00:00:00Z"}, "timestamp"), ({"limitHint": -1}, "limitHint"),
])
def test_query_refuses_what_is_not_shared(shared, body, fragment):
    _d, profile, client = shared
    response = query(client, profile, body)
    assert response.status_code == 400 and fragment in response.json()["message"]
    assert DownloadLink.objects.filter(kind="parquet").count() == 0


def test_query_with_a_broken_body_and_delta_only_format_are_400(shared):
    _d, profile, client = shared
    response = client.post(table_path(profile, "query"), data="{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["message"] == "The request body is not JSON."
    response = client.get(table_path(profile, "metadata"), HTTP_DELTA_SHARING_CAPABILITIES="responseformat=delta")
    assert response.status_code == 400
    response = client.get(table_path(profile, "metadata"),
                          HTTP_DELTA_SHARING_CAPABILITIES="responseformat=delta,parquet;readerfeatures=deletionvectors")
    assert response.status_code == 200 and response["delta-sharing-capabilities"] == "responseformat=parquet"


def test_the_file_url_authorises_itself_with_exact_length_ranges_and_no_gzip(shared):
    delivery, profile, client = shared
    url = file_url(query(client, profile))
    anonymous = Client()  # no bearer token, no session: the URL is the credential
    with open_parquet(delivery) as expected:
        whole = expected

    head = anonymous.head(url, HTTP_ACCEPT_ENCODING="gzip")
    assert head.status_code == 200 and head["Content-Length"] == str(delivery.parquet_size)
    assert Delivery.objects.get(pk=delivery.pk).downloads_used == 0  # HEAD is free and not audited

    response = anonymous.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate")
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and not response.has_header("Content-Encoding")
    assert response["Content-Length"] == str(len(body)) == str(delivery.parquet_size)
    assert hashlib.sha256(body).hexdigest() == delivery.parquet_sha256 and body == whole
    assert pq.read_table(io.BytesIO(body)).num_rows == 20
    assert response["Accept-Ranges"] == "bytes" and "no-transform" in response["Cache-Control"]

    part = anonymous.get(url, HTTP_RANGE="bytes=4-9")
    assert part.status_code == 206 and b"".join(part.streaming_content) == body[4:10]
    assert part["Content-Range"] == f"bytes 4-9/{delivery.parquet_size}" and part["Content-Length"] == "6"
    tail = anonymous.get(url, HTTP_RANGE="bytes=-8")
    assert b"".join(tail.streaming_content) == body[-8:] and body[-4:] == b"PAR1"

    bad = anonymous.get(url, HTTP_RANGE=f"bytes={delivery.parquet_size}-")
    assert bad.status_code == 416 and bad["Content-Range"] == f"bytes */{delivery.parquet_size}"

    delivery.refresh_from_db()
    assert delivery.downloads_used == 1  # one URL: its first fetch counted, the ranges after it free
    fetches = AuditEvent.objects.filter(action="delivery.downloaded").order_by("seq")
    assert [e.details["counted"] for e in fetches] == [True, False, False]
    assert [e.details["range"] for e in fetches] == ["", "bytes=4-9", f"bytes={delivery.parquet_size - 8}-{delivery.parquet_size - 1}"]


class open_parquet:
    def __init__(self, delivery):
        self.delivery = delivery

    def __enter__(self) -> bytes:
        from exchange import storage

        with storage.open_stream(self.delivery.parquet_name) as f:
            return f.read()

    def __exit__(self, *exc):
        return False


def test_each_query_is_a_new_url_and_a_new_download_until_the_limit(ready_delivery, issue_profile):
    delivery = ready_delivery(download_limit=2)
    profile = issue_profile(delivery, "http://testserver/delta-sharing")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {profile.body['bearerToken']}")
    for _ in range(2):
        assert Client().get(file_url(query(client, profile))).status_code == 200

    response = query(client, profile)
    assert response.status_code == 403
    assert response.json() == {"errorCode": "PERMISSION_DENIED",
                               "message": "The licence allows 2 downloads of this delivery and all 2 have been used."}
    assert Delivery.objects.get(pk=delivery.pk).downloads_used == 2


def test_a_url_issued_before_the_limit_was_used_up_is_refused_at_its_first_fetch(ready_delivery, issue_profile):
    delivery = ready_delivery(download_limit=1)
    profile = issue_profile(delivery, "http://testserver/delta-sharing")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {profile.body['bearerToken']}")
    first, second = file_url(query(client, profile)), file_url(query(client, profile))
    assert Client().get(first).status_code == 200

    response = Client().get(second)

    assert response.status_code == 403 and "all 1 have been used" in response.json()["message"]
    assert Delivery.objects.get(pk=delivery.pk).downloads_used == 1


def test_expired_or_tampered_file_urls_and_revoked_tokens_are_403(shared, staff_actor):
    from exchange.services.delivery import delivery_revoke

    delivery, profile, client = shared
    url = file_url(query(client, profile))
    tampered = Client().get(url.replace("/files/", "/files/A"))
    assert tampered.status_code == 403 and tampered.json()["message"] == "This file URL is not valid."

    DownloadLink.objects.filter(kind="parquet").update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = Client().get(url)
    assert expired.status_code == 403 and "expired" in expired.json()["message"]

    fresh = file_url(query(client, profile))
    delivery_revoke(actor=staff_actor, delivery_id=delivery.pk, reason="Court order")
    revoked = Client().get(fresh)
    assert revoked.status_code == 403 and "revoked" in revoked.json()["message"]
    assert query(client, profile).status_code == 403
    assert Delivery.objects.get(pk=delivery.pk).downloads_used == 0


def test_a_refund_kills_the_token(paid_contract, build_now, issue_profile, staff_actor):
    from exchange.services import escrow

    # A ready delivery whose contract is still in escrow (inside its acceptance window): the
    # refund service is what ends the token.
    delivery = paid_contract(acceptance_days=3).delivery
    build_now(delivery)
    profile = issue_profile(delivery, "http://testserver/delta-sharing")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {profile.body['bearerToken']}")
    assert client.get(f"{PREFIX}/shares").status_code == 200

    escrow.contract_refund(contract_id=delivery.contract_id, reason="Dispute decided for the buyer", actor=staff_actor)

    response = client.get(f"{PREFIX}/shares")
    assert response.status_code == 403 and "revoked" in response.json()["message"]
    assert AuditEvent.objects.filter(action="delta_sharing.token_revoked", object_id=str(delivery.pk)).count() == 1


def test_the_licence_end_ends_the_token(shared):
    delivery, _profile, client = shared
    Delivery.objects.filter(pk=delivery.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(f"{PREFIX}/shares")
    assert response.status_code == 403 and response.json()["errorCode"] == "PERMISSION_DENIED"


def test_wrong_method_is_405_in_the_error_body(shared):
    _d, profile, client = shared
    response = client.post(f"{PREFIX}/shares")
    assert response.status_code == 405 and response.json()["errorCode"] == "UNSUPPORTED_OPERATION"
    assert client.get(table_path(profile, "query")).status_code == 405
