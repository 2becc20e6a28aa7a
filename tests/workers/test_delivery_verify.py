"""verify_package: each check, in order, with the first failure named."""

import io
import zipfile
from datetime import UTC, datetime

import pytest

from tests.workers.test_delivery_support import (
    BEFORE_EXPIRY,
    EXPIRES,
    build,
    fields,
    flip,
    repack,
    seeded_key,
)
from workers.delivery import canonical_json, jwk, jwks, key_id, verify_package

OLD, NEW = seeded_key(1), seeded_key(2)
BOTH = jwks([jwk(OLD, status="retired", not_before=None, not_after=None),
             jwk(NEW, status="active", not_before=None, not_after=None)])
ONLY_NEW = jwks([jwk(NEW, status="active", not_before=None, not_after=None)])


def verify(blob, keys=BOTH, now=BEFORE_EXPIRY):
    return verify_package(io.BytesIO(blob), public_keys=keys, now=now)


def status(res):
    return {c.name: ("skip" if c.skipped else c.ok) for c in res.checks}


def test_key_rotation_old_key_package_verifies_with_jwks_of_both():
    _, blob = build(key=OLD)
    res = verify(blob, BOTH)
    assert res.ok
    assert res.key_id == key_id(OLD) == "34750f98bd59fcfc"
    assert res.check("signature").detail == "Ed25519, key 34750f98bd59fcfc"


def test_public_keys_accepts_kid_dict_and_list_and_pem():
    from workers.delivery import public_key_pem
    _, blob = build(key=OLD)
    assert verify(blob, {key_id(OLD): OLD.public_key()}).ok
    assert verify(blob, [public_key_pem(OLD)]).ok
    with pytest.raises(ValueError):
        verify(blob, {"0000000000000000": OLD.public_key()})


def test_unknown_key_id_fails_signature():
    _, blob = build(key=OLD)
    res = verify(blob, ONLY_NEW)
    assert not res.ok
    assert res.first_failure == "signature"
    assert res.first_failure_detail == ("key_id 34750f98bd59fcfc is not among the known keys "
                                        "(6a3803d5f059902a)")
    # the files are still assessed so the buyer learns they are intact
    assert status(res)["files"] is True


def test_expired_package_fails_expiry_only():
    _, blob = build()
    res = verify(blob, now=EXPIRES)
    assert res.first_failure == "expiry"
    assert res.first_failure_detail == "expired at 2027-11-27T10:00:00Z (now 2027-11-27T10:00:00Z)"
    assert [c.name for c in res.checks if not c.ok] == ["expiry"]


def test_naive_now_is_a_usage_error():
    _, blob = build()
    with pytest.raises(ValueError):
        verify(blob, now=datetime(2027, 1, 1))


@pytest.mark.parametrize("name, reason", [
    ("../evil", "'..' in path"),
    ("data/../../evil", "'..' in path"),
    ("/etc/cron.d/evil", "absolute path"),
    ("data\\..\\evil", "backslash in name"),
    ("C:/evil", "absolute path"),
])
def test_unsafe_entry_name_refuses_archive(name, reason):
    _, blob = build()
    bad = repack(blob, add={name: b"pwned"})
    res = verify(bad)
    assert res.first_failure == "archive"
    assert res.first_failure_detail == f"unsafe name {name!r}: {reason}"
    assert all(c.skipped for c in res.checks[1:])
    assert res.manifest is None


def test_zip_bomb_refused_without_inflating(monkeypatch):
    _, blob = build()
    out = io.BytesIO(blob)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data/bomb.bin", b"\0" * (20 << 20))
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open",
                        lambda self, name, *a, **k: opened.append(name) or real_open(self, name, *a, **k))
    res = verify(out.getvalue())
    assert res.first_failure == "archive"
    assert "data/bomb.bin: compression ratio" in res.first_failure_detail
    assert "possible ZIP bomb" in res.first_failure_detail
    assert opened == []  # nothing was read, let alone inflated


def test_declared_size_over_limit_refused():
    _, blob = build()
    res = verify_package(io.BytesIO(blob), public_keys=BOTH, now=BEFORE_EXPIRY, max_entry_size=1000)
    assert res.first_failure == "archive"
    assert res.first_failure_detail == "data/reviews.csv: declares 18794 bytes (limit 1000)"


def test_overlapping_entries_refused():
    """Two central-directory entries pointing at the same data (the overlap trick)."""
    _, blob = build()
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        cd_start = zf.start_dir
    cd = blob[cd_start:]
    first_entry_len = 46 + int.from_bytes(cd[28:30], "little") + int.from_bytes(cd[30:32], "little") \
        + int.from_bytes(cd[32:34], "little")
    entry = bytearray(cd[:first_entry_len])
    # rename the copy (same length) so names stay unique
    name_len = int.from_bytes(entry[28:30], "little")
    entry[46:46 + name_len] = b"data/reviews.cs2"
    eocd = blob.rfind(b"PK\x05\x06")
    tail = bytearray(blob[eocd:])
    for off in (8, 10):
        tail[off:off + 2] = (int.from_bytes(tail[off:off + 2], "little") + 1).to_bytes(2, "little")
    tail[12:16] = (int.from_bytes(tail[12:16], "little") + len(entry)).to_bytes(4, "little")
    doubled = blob[:eocd] + bytes(entry) + bytes(tail)
    res = verify(doubled)
    assert res.first_failure == "archive"
    assert "compressed bytes in an archive of" in res.first_failure_detail


def test_duplicate_entry_refused():
    _, blob = build()
    out = io.BytesIO(blob)
    with zipfile.ZipFile(out, "a") as zf, pytest.warns(UserWarning):
        zf.writestr("LICENSE.txt", b"other terms")
    res = verify(out.getvalue())
    assert res.first_failure == "archive"
    assert res.first_failure_detail == "duplicate entry 'LICENSE.txt'"


def test_not_a_zip():
    res = verify(b"this is not a zip file")
    assert res.first_failure == "archive"
    assert res.first_failure_detail.startswith("not a readable ZIP archive")
    assert len(res.checks) == 8 and all(c.skipped for c in res.checks[1:])


def test_missing_path_is_reported_not_raised(tmp_path):
    res = verify_package(tmp_path / "nope.zip", public_keys=BOTH)
    assert res.first_failure == "archive"


def test_tampered_data_repacked_names_the_file():
    _, blob = build()
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        data = zf.read("data/reviews.csv")
    res = verify(repack(blob, replace={"data/reviews.csv": flip(data, 100)}))
    assert res.first_failure == "files"
    assert res.first_failure_detail.startswith("data/reviews.csv: sha256 ")
    assert status(res) == {"archive": True, "manifest": True, "signature": True, "files": False,
                           "inventory": True, "sha256sums": True, "license": True, "expiry": True}


def test_flipped_byte_inside_zip_fails_crc_and_names_the_file():
    _, blob = build()
    res = verify(flip(blob, 500))  # inside data/reviews.csv's stored bytes
    assert res.first_failure == "files"
    assert res.first_failure_detail.startswith("data/reviews.csv: unreadable (Bad CRC-32")


def test_tampered_manifest_value_fails_signature():
    result, blob = build()
    m = result.manifest_bytes.replace(b'"download_limit":5', b'"download_limit":9')
    res = verify(repack(blob, replace={"manifest.json": m}))
    assert res.first_failure == "signature"
    assert res.first_failure_detail == "signature by key 34750f98bd59fcfc does not match manifest.json"


def test_non_canonical_manifest_fails_manifest_even_if_signed():
    result, blob = build()
    import json
    pretty = json.dumps(result.manifest, indent=1, sort_keys=True, ensure_ascii=False).encode()
    res = verify(repack(blob, replace={"manifest.json": pretty,
                                       "manifest.sig": OLD.sign(pretty)}))
    assert res.first_failure == "manifest"
    assert res.first_failure_detail.startswith("manifest.json is not canonical JSON")
    assert status(res)["signature"] is True
    assert status(res)["files"] == "skip"


def test_manifest_with_duplicate_key_refused():
    result, blob = build()
    m = b'{"a":1,"a":2}'
    res = verify(repack(blob, replace={"manifest.json": m}))
    assert res.first_failure_detail == "manifest.json has a duplicate key 'a'"


def test_wrong_format_refused():
    result, blob = build()
    m = canonical_json(dict(result.manifest, format="shujiao-delivery/2"))
    res = verify(repack(blob, replace={"manifest.json": m, "manifest.sig": OLD.sign(m)}))
    assert res.first_failure == "manifest"
    assert res.first_failure_detail == "format is 'shujiao-delivery/2', expected 'shujiao-delivery/1'"


def test_missing_manifest_and_signature():
    _, blob = build()
    res = verify(repack(blob, drop={"manifest.json"}))
    assert res.first_failure == "manifest"
    assert res.first_failure_detail == "manifest.json is missing"
    assert status(res)["signature"] == "skip"
    res = verify(repack(blob, drop={"manifest.sig"}))
    assert res.first_failure == "signature"
    assert res.first_failure_detail == "manifest.sig is missing"


def test_truncated_signature():
    result, blob = build()
    res = verify(repack(blob, replace={"manifest.sig": result.signature[:63]}))
    assert res.first_failure_detail == "manifest.sig is 63 bytes, expected 64"


def test_extra_file_fails_inventory():
    _, blob = build()
    res = verify(repack(blob, add={"data/extra.csv": b"a,b\n"}))
    assert res.first_failure == "inventory"
    assert res.first_failure_detail == "extra files not in manifest: data/extra.csv"


def test_missing_file_fails_files_and_inventory():
    _, blob = build()
    res = verify(repack(blob, drop={"LICENSE.txt"}))
    assert res.first_failure == "files"
    assert res.first_failure_detail == "LICENSE.txt: missing"
    assert res.check("inventory").detail == "missing files: LICENSE.txt"
    assert res.check("license").detail == "LICENSE.txt is missing"


def test_sha256sums_must_match_manifest_even_when_resigned():
    """A signer that lists SHA256SUMS with a wrong body still fails the sums check."""
    result, blob = build()
    import hashlib
    sums = b"0" * 64 + b"  data/reviews.csv\n"
    files = [dict(f) for f in result.manifest["files"]]
    files[1].update(size=len(sums), sha256=hashlib.sha256(sums).hexdigest())
    m = canonical_json(dict(result.manifest, files=files))
    res = verify(repack(blob, replace={"SHA256SUMS": sums, "manifest.json": m,
                                       "manifest.sig": OLD.sign(m)}))
    assert res.first_failure == "sha256sums"
    assert res.first_failure_detail.startswith("SHA256SUMS does not match the manifest's files: line 1:")


def test_license_sha_mismatch_when_resigned():
    result, blob = build()
    m = canonical_json(dict(result.manifest, license=dict(result.manifest["license"],
                                                          sha256="a" * 64)))
    res = verify(repack(blob, replace={"manifest.json": m, "manifest.sig": OLD.sign(m)}))
    assert res.first_failure == "license"
    assert res.first_failure_detail.endswith("manifest license.sha256 " + "a" * 64)


def test_default_now_is_current_time():
    _, blob = build(manifest_fields=fields(issued_at=datetime(2020, 1, 1, tzinfo=UTC),
                                           expires_at=datetime(2021, 1, 1, tzinfo=UTC)))
    res = verify_package(io.BytesIO(blob), public_keys=BOTH)
    assert res.first_failure == "expiry"
