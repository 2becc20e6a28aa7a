"""Building the signed delivery package: exact manifest, ZIP layout, refusals."""

import hashlib
import io
import json
import struct
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime

import pytest

from tests.workers.test_delivery_support import (
    BEFORE_EXPIRY,
    DATA,
    LICENSE_TEXT,
    build,
    fields,
    seeded_key,
)
from workers.delivery import (
    SourceIntegrityError,
    build_package,
    canonical_json,
    key_id,
    safe_data_name,
    verify_package,
)

DATA_SHA = hashlib.sha256(DATA).hexdigest()
LICENSE_SHA = hashlib.sha256(LICENSE_TEXT.encode()).hexdigest()
SUMS = f"{LICENSE_SHA}  LICENSE.txt\n{DATA_SHA}  data/reviews.csv\n".encode()

EXPECTED_MANIFEST = (
    '{"buyer":{"credit_code":"91310000MA1FL0DW0B","name":"Buyer Co"},"contract_id":"ctr-0001",'
    '"dataset_version_id":"ver-0001","delivery_id":"dlv-0001","expires_at":"2027-11-27T10:00:00Z",'
    '"files":[{"path":"LICENSE.txt","sha256":"' + LICENSE_SHA + '","size":49},'
    '{"path":"SHA256SUMS","sha256":"' + hashlib.sha256(SUMS).hexdigest() + '","size":161},'
    '{"path":"data/reviews.csv","sha256":"' + DATA_SHA + '","size":18794}],'
    '"format":"shujiao-delivery/1","issued_at":"2026-11-27T10:00:00Z","key_id":"34750f98bd59fcfc",'
    '"license":{"download_limit":5,"purpose":"research","redistribution":false,'
    '"sha256":"' + LICENSE_SHA + '","term_days":365},"listing_id":"lst-0001",'
    '"seller":{"credit_code":"91110000600037341L","name":"北京数据有限公司"},'
    '"source_sha256":"' + DATA_SHA + '"}'
).encode()


def test_manifest_bytes_are_exactly_the_spec_format():
    result, blob = build()
    assert result.manifest_bytes == EXPECTED_MANIFEST
    assert canonical_json(result.manifest) == EXPECTED_MANIFEST
    assert b"\\u" not in result.manifest_bytes  # non-ASCII as UTF-8, not escaped
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        assert zf.read("manifest.json") == EXPECTED_MANIFEST


def test_manifest_files_and_sha256sums_contents():
    result, blob = build()
    assert result.manifest["files"] == [
        {"path": "LICENSE.txt", "size": 49, "sha256": LICENSE_SHA},
        {"path": "SHA256SUMS", "size": 161, "sha256": hashlib.sha256(SUMS).hexdigest()},
        {"path": "data/reviews.csv", "size": len(DATA), "sha256": DATA_SHA},
    ]
    assert result.manifest["license"]["sha256"] == LICENSE_SHA
    assert result.manifest["source_sha256"] == DATA_SHA
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        assert zf.read("SHA256SUMS") == SUMS
        assert zf.read("LICENSE.txt") == LICENSE_TEXT.encode("utf-8")
        assert zf.read("data/reviews.csv") == DATA


def test_zip_layout_names_stored_and_signature_is_64_bytes():
    result, blob = build()
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == [
            "data/reviews.csv", "LICENSE.txt", "SHA256SUMS", "manifest.json", "manifest.sig"]
        assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}
        assert {i.date_time for i in infos} == {(2026, 11, 27, 10, 0, 0)}
        sig = zf.read("manifest.sig")
    assert len(sig) == 64 == len(result.signature)
    assert sig == result.signature
    seeded_key().public_key().verify(sig, result.manifest_bytes)
    assert result.signature.hex() == (
        "66eff12d23d6988f0aa93bbcf97560c5bae9089babbfcdae24e750681540dfc7"
        "0c728bfaafd357ee307b6dbf1c0eaa2e267a33f718aac114ec4756d556282e09")


def test_result_describes_the_source_and_the_package():
    result, blob = build()
    assert result.size == len(DATA) == 18794
    assert result.sha256 == DATA_SHA == result.manifest["source_sha256"]
    assert result.package_size == len(blob) == 20676
    assert result.package_sha256 is None  # not computed unless asked
    assert result.key_id == "34750f98bd59fcfc"


def test_hash_package_gives_the_zip_sha256_and_same_bytes():
    result, blob = build(hash_package=True)
    assert result.package_sha256 == hashlib.sha256(blob).hexdigest()
    assert blob == build()[1]


class _ReadOnly:
    """A source with read() only (no readinto), like some storage streams."""

    def __init__(self, data):
        self._f = io.BytesIO(data)

    def read(self, n=-1):
        return self._f.read(n)


def test_many_chunks_through_the_buffer_ring_hash_correctly():
    data = bytes(range(251)) * 4000  # 1,004,000 bytes = 246 chunks of 4 KiB > ring of 10
    for source in (io.BytesIO(data), _ReadOnly(data)):
        result, blob = build(data=data, source=source, chunk_size=4096, hash_package=True)
        assert result.sha256 == hashlib.sha256(data).hexdigest()
        assert result.package_sha256 == hashlib.sha256(blob).hexdigest()
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            assert zf.read("data/reviews.csv") == data


def test_round_trip_build_then_verify_ok():
    _, blob = build()
    res = verify_package(io.BytesIO(blob), public_keys={key_id(seeded_key()): seeded_key().public_key()},
                         now=BEFORE_EXPIRY)
    assert res.ok, res.checks
    assert res.first_failure is None
    assert [c.name for c in res.checks] == ["archive", "manifest", "signature", "files",
                                             "inventory", "sha256sums", "license", "expiry"]
    assert all(c.ok and not c.skipped for c in res.checks)
    assert res.manifest["delivery_id"] == "dlv-0001"


def test_build_is_deterministic():
    assert build()[1] == build()[1]


def test_times_are_utc_z_without_microseconds():
    from datetime import timedelta, timezone
    cst = timezone(timedelta(hours=8))
    result, _ = build(manifest_fields=fields(
        issued_at=datetime(2026, 11, 27, 18, 0, 0, 123456, tzinfo=cst),
        expires_at=datetime(2027, 11, 27, 18, 0, 0, tzinfo=cst)))
    assert result.manifest["issued_at"] == "2026-11-27T10:00:00Z"
    assert result.manifest["expires_at"] == "2027-11-27T10:00:00Z"


def test_extra_fields_are_kept_and_normalised():
    result, _ = build(manifest_fields=fields(watermark={"applied": False},
                                             snapshot_date=date(2026, 11, 1),
                                             checked_at=datetime(2026, 11, 2, 1, 2, 3, 4, tzinfo=UTC)))
    assert result.manifest["watermark"] == {"applied": False}
    assert result.manifest["snapshot_date"] == "2026-11-01"
    assert result.manifest["checked_at"] == "2026-11-02T01:02:03Z"


def test_source_integrity_mismatch_raises_with_both_hashes():
    with pytest.raises(SourceIntegrityError) as exc:
        build(expected_sha256="0" * 64)
    assert exc.value.expected == "0" * 64
    assert exc.value.actual == DATA_SHA
    assert "changed at rest" in str(exc.value)


def test_source_changed_by_one_byte_is_caught():
    changed = DATA[:-2] + b"g\n"
    with pytest.raises(SourceIntegrityError):
        build(source=io.BytesIO(changed))


@pytest.mark.parametrize("bad", [
    "../evil.csv", "data/../evil.csv", "/data/x.csv", "data\\x.csv", "x.csv", "data/",
    "data//x.csv", "data/.hidden", "data/./x.csv", "data/评论.csv", "data/a b.csv",
    "data/x\n.csv", "DATA/x.csv", "C:/data/x.csv",
])
def test_unsafe_data_path_refused_before_writing(bad):
    out = io.BytesIO()
    with pytest.raises(ValueError, match="unsafe data_path"):
        build_package(source=io.BytesIO(DATA), out=out, data_path=bad, license_text="L",
                      manifest_fields=fields(), expected_sha256=DATA_SHA,
                      private_key=seeded_key())
    assert out.getvalue() == b""


def test_nested_data_path_allowed():
    result, _ = build(data_path="data/2026/reviews_v2.csv")
    assert [f["path"] for f in result.manifest["files"]] == [
        "LICENSE.txt", "SHA256SUMS", "data/2026/reviews_v2.csv"]


@pytest.mark.parametrize("bad, message", [
    ({"delivery_id": None}, None),
    ({"format": "x"}, "computed"),
    ({"files": []}, "computed"),
    ({"issued_at": datetime(2026, 1, 1)}, "naive"),
    ({"expires_at": datetime(2026, 1, 1, tzinfo=UTC)}, "after issued_at"),
])
def test_bad_manifest_fields_refused(bad, message):
    f = fields()
    for k, v in bad.items():
        if v is None:
            del f[k]
        else:
            f[k] = v
    with pytest.raises(ValueError, match=message or "missing delivery_id"):
        build(manifest_fields=f)


def test_license_fields_required_and_sha256_not_settable():
    lic = {"purpose": "x", "term_days": 1, "download_limit": 1}
    with pytest.raises(ValueError, match="redistribution"):
        build(manifest_fields=fields(license=lic))
    with pytest.raises(ValueError, match="sha256"):
        build(manifest_fields=fields(license=dict(lic, redistribution=False, sha256="0" * 64)))


@pytest.mark.parametrize("title, fmt, expected", [
    ("Reviews 2024 (cleaned).CSV", "csv", "reviews-2024-cleaned.csv"),
    ("电商评论 Reviews", "csv", "reviews.csv"),
    ("电商评论", "jsonl", "dataset.jsonl"),
    ("Café Übersicht", "parquet", "cafe-ubersicht.parquet"),
    ("../../etc/passwd", "tsv", "etc-passwd.tsv"),
    ("a..b", "csv", "a.b.csv"),
    ("con", "csv", "dataset-con.csv"),
    ("data.jsonl", "JSON_LINES", "data.jsonl"),
    ("x" * 300, "csv", "x" * 100 + ".csv"),
])
def test_safe_data_name(title, fmt, expected):
    name = safe_data_name(title, fmt)
    assert name == expected
    build(data_path="data/" + name)  # always acceptable as a data path


def test_deflate_option_compresses_and_verifies():
    data = b"same line of text\n" * 50_000
    result, blob = build(data=data, deflate=True)
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_DEFLATED}
        assert zf.read("data/reviews.csv") == data
    assert len(blob) < len(data) // 50
    res = verify_package(io.BytesIO(blob), public_keys=[seeded_key().public_key()], now=BEFORE_EXPIRY)
    assert res.ok, res.checks


def _local_extra_ids(blob: bytes, offset: int) -> list[int]:
    sig, *_rest = struct.unpack_from("<4s", blob, offset)
    assert sig == b"PK\x03\x04"
    name_len, extra_len = struct.unpack_from("<HH", blob, offset + 26)
    extra = blob[offset + 30 + name_len: offset + 30 + name_len + extra_len]
    ids, i = [], 0
    while i < len(extra):
        hid, size = struct.unpack_from("<HH", extra, i)
        ids.append(hid)
        i += 4 + size
    return ids


def test_data_entry_is_zip64_and_streamed_with_data_descriptor():
    _, blob = build()
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        info = zf.getinfo("data/reviews.csv")
        assert info.header_offset == 0
        assert info.flag_bits & 0x08  # sizes and CRC follow the data
        small = zf.getinfo("LICENSE.txt")
    assert _local_extra_ids(blob, 0) == [0x0001]  # ZIP64 extended information
    assert struct.unpack_from("<H", blob, 4)[0] == 45  # version needed: 4.5 (ZIP64)
    assert _local_extra_ids(blob, small.header_offset) == []


def test_full_zip64_structures_read_by_stock_tools(tmp_path, monkeypatch):
    """Lower zipfile's ZIP64 threshold so a small file takes the >4 GiB code path:
    ZIP64 sizes in the central directory and the ZIP64 end records."""
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 4096)
    data = bytes(range(256)) * 64  # 16 KiB > patched limit
    pkg = tmp_path / "big.zip"
    build(pkg, data=data)
    monkeypatch.undo()
    blob = pkg.read_bytes()
    assert b"PK\x06\x06" in blob and b"PK\x06\x07" in blob  # ZIP64 end record + locator
    # an unpatched reader (fresh interpreter) and Info-ZIP both accept it
    code = ("import zipfile,sys,hashlib; z=zipfile.ZipFile(sys.argv[1]);"
            "print(hashlib.sha256(z.read('data/reviews.csv')).hexdigest())")
    out = subprocess.run([sys.executable, "-c", code, str(pkg)], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == hashlib.sha256(data).hexdigest()
    res = verify_package(pkg, public_keys=[seeded_key().public_key()], now=BEFORE_EXPIRY)
    assert res.ok, res.checks
    try:
        test = subprocess.run(["unzip", "-tq", str(pkg)], capture_output=True, text=True)
    except FileNotFoundError:
        return
    assert test.returncode == 0, test.stdout + test.stderr


class _Pipe:
    """A write-only stream with no tell/seek, like a socket or an upload pipe."""

    def __init__(self):
        self.chunks = []

    def write(self, b):
        self.chunks.append(bytes(b))
        return len(b)

    def flush(self):
        pass


def test_non_seekable_output_gives_identical_bytes():
    pipe = _Pipe()
    result = build_package(source=io.BytesIO(DATA), out=pipe, data_path="data/reviews.csv",
                           license_text=LICENSE_TEXT, manifest_fields=fields(),
                           expected_sha256=DATA_SHA, private_key=seeded_key(),
                           hash_package=True)
    assert b"".join(pipe.chunks) == build()[1]
    assert result.package_sha256 == hashlib.sha256(b"".join(pipe.chunks)).hexdigest()


def test_progress_reports_bytes_done_per_chunk():
    seen = []
    build(progress=seen.append, chunk_size=8192)
    assert seen == [8192, 16384, 18794]


def test_empty_source_still_packages():
    result, blob = build(data=b"")
    assert result.manifest["files"][2] == {"path": "data/reviews.csv", "size": 0,
                                           "sha256": hashlib.sha256(b"").hexdigest()}
    assert verify_package(io.BytesIO(blob), public_keys=[seeded_key()], now=BEFORE_EXPIRY).ok


def test_manifest_json_parses_back_to_result_manifest():
    result, _ = build()
    assert json.loads(result.manifest_bytes) == result.manifest
