"""Download links and the download endpoint: binding, expiry, limits, ranges, streaming, audit;
stock tools and the verify command on a package fetched through the endpoint.

Every test runs twice: on local storage and on S3 (a moto server on loopback, the web
process's MEDIA_ROOT left absent) — see ``storage_backend`` in tests/conftest.py."""

from __future__ import annotations

import hashlib
import subprocess
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from exchange.models import AuditEvent, Delivery, DownloadLink
from exchange.services.orgs import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _both_backends(storage_backend):
    """Set the backend before any fixture stores a file."""
    return storage_backend


def owner(org):
    return org.memberships.select_related("user").first().user


def api_key(org, scopes=("read", "buy")) -> str:
    from exchange.actor import Actor

    _key, secret = api_key_create(actor=Actor(type="user", user=owner(org), organization=org), name="k",
                                  scopes=list(scopes))
    return secret


def make_link(client, delivery) -> tuple[str, dict]:
    """Create a link through the API as the buyer (session); returns its path and the body."""
    client.force_login(owner(delivery.contract.buyer))
    response = client.post(f"/api/v1/deliveries/{delivery.pk}/links/")
    assert response.status_code == 201, response.content
    body = response.json()
    return body["url"].removeprefix("http://testserver"), body


def fetch(client, path, **headers):
    response = client.get(path, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def package_bytes(delivery) -> bytes:
    from django.core.files.storage import default_storage

    with default_storage.open(delivery.package_name, "rb") as f:
        return f.read()


def test_buyer_downloads_the_whole_package_streamed_with_exact_headers(ready_delivery, client):
    delivery = ready_delivery()
    path, body = make_link(client, delivery)
    assert body["download_limit"] == 3 and body["downloads_used"] == 0
    assert path.startswith("/d/") and len(path) >= 3 + 43  # 256-bit token

    response, data = fetch(client, path)

    assert response.status_code == 200 and response.streaming
    assert data == package_bytes(delivery)
    assert response["Content-Length"] == str(delivery.package_size) == str(len(data))
    assert response["Content-Type"] == "application/zip"
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"] == delivery.etag and len(delivery.etag) == 34
    assert "no-transform" in response["Cache-Control"] and not response.has_header("Content-Encoding")
    assert response["Content-Disposition"] == (
        f'attachment; filename="shujiao-product-reviews-{str(delivery.pk)[:8]}.zip"')
    delivery.refresh_from_db()
    assert delivery.downloads_used == 1
    event = AuditEvent.objects.get(action="delivery.downloaded", object_id=str(delivery.pk))
    assert event.details["counted"] is True and event.details["range"] == ""
    assert event.organization_id == str(delivery.contract.buyer_id)
    # The token is stored only as its hash.
    token = path.removeprefix("/d/")
    link = DownloadLink.objects.get()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in link.token_hash


def test_range_requests_resume_through_the_same_link_without_counting_again(ready_delivery, client):
    delivery = ready_delivery()
    path, _ = make_link(client, delivery)
    whole = package_bytes(delivery)
    size = len(whole)

    first, part1 = fetch(client, path, HTTP_RANGE="bytes=0-99")
    second, part2 = fetch(client, path, HTTP_RANGE="bytes=100-")
    suffix, tail = fetch(client, path, HTTP_RANGE="bytes=-10")

    assert (first.status_code, second.status_code, suffix.status_code) == (206, 206, 206)
    assert part1 + part2 == whole and tail == whole[-10:]
    assert first["Content-Range"] == f"bytes 0-99/{size}" and first["Content-Length"] == "100"
    assert second["Content-Range"] == f"bytes 100-{size - 1}/{size}" and second["Content-Length"] == str(size - 100)
    assert suffix["Content-Range"] == f"bytes {size - 10}-{size - 1}/{size}"
    delivery.refresh_from_db()
    assert delivery.downloads_used == 1
    assert DownloadLink.objects.get().requests == 3
    ranges = list(AuditEvent.objects.filter(action="delivery.downloaded").order_by("seq")
                  .values_list("details__range", flat=True))
    assert ranges == ["bytes=0-99", f"bytes=100-{size - 1}", f"bytes={size - 10}-{size - 1}"]


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=0-1,5-9", "bytes=abc", "bytes=9-3", "bytes=-0"])
def test_invalid_ranges_get_416_and_count_nothing(ready_delivery, client, header):
    delivery = ready_delivery()
    path, _ = make_link(client, delivery)
    response, body = fetch(client, path, HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{delivery.package_size}"
    assert response.json()["error"]["code"] == "range_not_satisfiable"
    delivery.refresh_from_db()
    assert delivery.downloads_used == 0
    assert AuditEvent.objects.filter(action="delivery.downloaded").count() == 0


def test_if_range_with_another_etag_sends_the_whole_package(ready_delivery, client):
    delivery = ready_delivery()
    path, _ = make_link(client, delivery)
    response, body = fetch(client, path, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"0000"')
    assert response.status_code == 200 and len(body) == delivery.package_size


def test_tampered_or_unknown_links_are_refused_with_403(ready_delivery, client):
    delivery = ready_delivery()
    path, _ = make_link(client, delivery)
    tampered = path[:-1] + ("A" if path[-1] != "A" else "B")
    for bad in (tampered, "/d/unknown-token", "/d/" + "x" * 300):
        response, _ = fetch(client, bad)
        assert response.status_code == 403, bad
        assert response.json()["error"]["code"] == "invalid_link"
    assert Delivery.objects.get(pk=delivery.pk).downloads_used == 0
    assert AuditEvent.objects.filter(action="delivery.downloaded").count() == 0


def test_another_firms_session_or_key_is_refused_even_with_a_valid_link(ready_delivery, client, make_firm):
    delivery = ready_delivery()
    path, _ = make_link(client, delivery)
    other = make_firm("Other Co")
    client.force_login(owner(other))
    response, _ = fetch(client, path)
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_your_link"
    client.logout()
    response, _ = fetch(client, path, HTTP_AUTHORIZATION=f"Api-Key {api_key(other)}")
    assert response.status_code == 403
    seller_key = api_key(delivery.contract.seller, scopes=("read", "sell", "buy"))
    response, _ = fetch(client, path, HTTP_AUTHORIZATION=f"Api-Key {seller_key}")
    assert response.status_code == 403
    response, _ = fetch(client, path)  # no credentials at all
    assert response.status_code == 401
    assert Delivery.objects.get(pk=delivery.pk).downloads_used == 0


def test_buyer_api_key_downloads_and_a_key_without_buy_scope_is_refused(ready_delivery, client):
    delivery = ready_delivery()
    buyer = delivery.contract.buyer
    key = api_key(buyer)
    created = client.post(f"/api/v1/deliveries/{delivery.pk}/links/", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert created.status_code == 201
    path = created.json()["url"].removeprefix("http://testserver")
    read_only = api_key(buyer, scopes=("read",))
    response, _ = fetch(client, path, HTTP_AUTHORIZATION=f"Api-Key {read_only}")
    assert response.status_code == 403 and response.json()["error"]["code"] == "missing_scope"
    response, data = fetch(client, path, HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 200 and len(data) == delivery.package_size
    refused = client.post(f"/api/v1/deliveries/{delivery.pk}/links/", HTTP_AUTHORIZATION=f"Api-Key {read_only}")
    assert refused.status_code == 403 and DownloadLink.objects.count() == 1


def test_expired_link_is_gone(ready_delivery, client):
    delivery = ready_delivery()
    path, _ = make_link(client, delivery)
    DownloadLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response, _ = fetch(client, path)
    assert response.status_code == 410 and response.json()["error"]["code"] == "link_expired"
    assert Delivery.objects.get(pk=delivery.pk).downloads_used == 0


def test_link_lifetime_is_the_configured_ttl(ready_delivery, client, settings):
    settings.DOWNLOAD_LINK_TTL_SECONDS = 60
    delivery = ready_delivery()
    make_link(client, delivery)
    link = DownloadLink.objects.get()
    assert timedelta(seconds=59) <= link.expires_at - link.created_at <= timedelta(seconds=61)


@pytest.mark.parametrize("status, code", [("expired", "delivery_expired"), ("revoked", "delivery_revoked")])
def test_expired_or_revoked_delivery_is_gone(ready_delivery, client, status, code):
    delivery = ready_delivery()
    path, _ = make_link(client, delivery)
    Delivery.objects.filter(pk=delivery.pk).update(status=status)
    response, _ = fetch(client, path)
    assert response.status_code == 410 and response.json()["error"]["code"] == code
    created = client.post(f"/api/v1/deliveries/{delivery.pk}/links/")
    assert created.status_code == 410
    assert DownloadLink.objects.count() == 1


def test_licence_download_limit_is_enforced_and_named(ready_delivery, client):
    delivery = ready_delivery(download_limit=2)
    a, _ = make_link(client, delivery)
    b, _ = make_link(client, delivery)
    c, _ = make_link(client, delivery)  # creation is free while downloads remain
    assert fetch(client, a)[0].status_code == 200
    assert fetch(client, b)[0].status_code == 200
    response, _ = fetch(client, c)
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "download_limit_reached", "fields": {},
        "message": "The licence allows 2 downloads of this delivery and all 2 have been used."}
    refused = client.post(f"/api/v1/deliveries/{delivery.pk}/links/")
    assert refused.status_code == 403 and "allows 2 downloads" in refused.json()["error"]["message"]
    assert fetch(client, a, HTTP_RANGE="bytes=0-9")[0].status_code == 206  # a used link may still resume
    delivery.refresh_from_db()
    assert delivery.downloads_used == 2 and DownloadLink.objects.count() == 3
    assert DownloadLink.objects.get(first_used_at__isnull=True).requests == 0


def test_link_for_a_delivery_not_ready_is_refused(paid_contract, client):
    delivery = paid_contract().delivery
    client.force_login(owner(delivery.contract.buyer))
    response = client.post(f"/api/v1/deliveries/{delivery.pk}/links/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "delivery_not_ready"
    assert DownloadLink.objects.count() == 0


# --- Stock tools on a package fetched through the endpoint --------------------------
@pytest.fixture
def fetched_package(ready_delivery, client, tmp_path):
    delivery = ready_delivery()
    path, _ = make_link(client, delivery)
    response, data = fetch(client, path)
    assert response.status_code == 200
    package = tmp_path / "package.zip"
    package.write_bytes(data)
    pem = client.get(f"/.well-known/shujiao/keys/{delivery.key_id}.pem")
    (tmp_path / f"exchange-{delivery.key_id}.pem").write_bytes(pem.content)
    (tmp_path / "keys.json").write_bytes(client.get("/.well-known/shujiao/keys.json").content)
    out = tmp_path / "out"
    with zipfile.ZipFile(package) as zf:
        zf.extractall(out)
    return delivery, package, out, tmp_path


def openssl_verify(workdir, kid):
    return subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", f"../exchange-{kid}.pem", "-rawin",
                           "-in", "manifest.json", "-sigfile", "manifest.sig"], cwd=workdir, capture_output=True, text=True)


def sha256sum_check(workdir):
    return subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=workdir, capture_output=True, text=True)


def test_openssl_and_sha256sum_verify_a_downloaded_package(fetched_package):
    delivery, _package, out, _tmp = fetched_package
    sig = openssl_verify(out, delivery.key_id)
    assert sig.returncode == 0, sig.stdout + sig.stderr
    assert "Signature Verified Successfully" in sig.stdout
    sums = sha256sum_check(out)
    assert sums.returncode == 0, sums.stdout + sums.stderr
    assert sums.stdout.splitlines() == ["LICENSE.txt: OK", "data/reviews.csv: OK", "datapackage.json: OK",
                                        "metadata/croissant.json: OK"]


def test_stock_tools_catch_a_flipped_byte(fetched_package):
    delivery, _package, out, _tmp = fetched_package
    data = out / "data" / "reviews.csv"
    raw = bytearray(data.read_bytes())
    raw[5] ^= 0x01
    data.write_bytes(bytes(raw))
    assert sha256sum_check(out).returncode != 0
    assert openssl_verify(out, delivery.key_id).returncode == 0  # the manifest itself is intact
    manifest = out / "manifest.json"
    raw = bytearray(manifest.read_bytes())
    raw[10] ^= 0x01
    manifest.write_bytes(bytes(raw))
    assert openssl_verify(out, delivery.key_id).returncode != 0


def verify_command(*args):
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "manage.py", "verify_delivery", *map(str, args)], cwd=root,
                          capture_output=True, text=True, timeout=120)


def test_verify_delivery_command_on_a_downloaded_package(fetched_package):
    delivery, package, out, tmp = fetched_package
    result = verify_command(package, "--keys", tmp / "keys.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"OK: {package} verified (8 checks passed)" in result.stdout
    with_pem = verify_command(package, "--keys", tmp / f"exchange-{delivery.key_id}.pem")
    assert with_pem.returncode == 0, with_pem.stdout + with_pem.stderr


def test_verify_delivery_command_names_the_failure_of_a_tampered_package(fetched_package):
    delivery, package, out, tmp = fetched_package
    tampered = tmp / "tampered.zip"
    with zipfile.ZipFile(package) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "manifest.sig":
                data = bytes([data[0] ^ 0x01]) + data[1:]
            dst.writestr(info, data)
    result = verify_command(tampered, "--keys", tmp / "keys.json")
    assert result.returncode == 1
    assert "FAILED: signature" in result.stdout


def test_head_answers_the_headers_without_counting_or_auditing(ready_delivery, client):
    delivery = ready_delivery(download_limit=1)
    path, _ = make_link(client, delivery)
    response = client.head(path)
    assert response.status_code == 200 and response.content == b""
    assert response["Content-Length"] == str(delivery.package_size)
    assert client.head(path, HTTP_RANGE="bytes=0-9")["Content-Range"] == f"bytes 0-9/{delivery.package_size}"
    delivery.refresh_from_db()
    assert delivery.downloads_used == 0
    assert AuditEvent.objects.filter(action="delivery.downloaded").count() == 0
    assert fetch(client, path)[0].status_code == 200
