"""A buyer verifies with stock tools only (SPEC §5): openssl and sha256sum."""

import shutil
import subprocess
import zipfile

import pytest

from tests.workers.test_delivery_support import BEFORE_EXPIRY, build, flip, repack, seeded_key
from workers.delivery import key_id, public_key_pem, verify_package


def _openssl_has_rawin() -> bool:
    if not shutil.which("openssl"):
        return False
    help_text = subprocess.run(["openssl", "pkeyutl", "-help"], capture_output=True, text=True)
    return "-rawin" in help_text.stdout + help_text.stderr


pytestmark = [
    pytest.mark.skipif(not _openssl_has_rawin(), reason="needs OpenSSL 3 (pkeyutl -rawin)"),
    pytest.mark.skipif(not shutil.which("sha256sum"), reason="needs coreutils sha256sum"),
]

KEY = seeded_key(1)
KID = key_id(KEY)


def _unpack(tmp_path, blob):
    pkg = tmp_path / "delivery.zip"
    pkg.write_bytes(blob)
    out = tmp_path / "x"
    with zipfile.ZipFile(pkg) as zf:
        zf.extractall(out)
    (tmp_path / f"exchange-{KID}.pem").write_bytes(public_key_pem(KEY))
    return out


def _openssl_verify(tmp_path, folder):
    return subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / f"exchange-{KID}.pem"),
         "-rawin", "-in", "manifest.json", "-sigfile", "manifest.sig"],
        cwd=folder, capture_output=True, text=True)


def _sha256sum_check(folder):
    return subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True,
                          text=True)


def test_openssl_and_sha256sum_accept_an_untouched_package(tmp_path):
    _, blob = build(key=KEY)
    folder = _unpack(tmp_path, blob)
    ssl = _openssl_verify(tmp_path, folder)
    assert ssl.returncode == 0, ssl.stderr
    assert "Signature Verified Successfully" in ssl.stdout
    sums = _sha256sum_check(folder)
    assert sums.returncode == 0, sums.stdout + sums.stderr
    assert sums.stdout == "LICENSE.txt: OK\ndata/reviews.csv: OK\n"


def test_flipped_data_byte_fails_sha256sum_and_verify_names_file(tmp_path):
    _, blob = build(key=KEY)
    folder = _unpack(tmp_path, blob)
    target = folder / "data" / "reviews.csv"
    tampered = flip(target.read_bytes(), 1234)
    target.write_bytes(tampered)
    sums = _sha256sum_check(folder)
    assert sums.returncode == 1
    assert "data/reviews.csv: FAILED" in sums.stdout
    assert _openssl_verify(tmp_path, folder).returncode == 0  # manifest itself untouched
    res = verify_package(
        _write(tmp_path, repack(blob, replace={"data/reviews.csv": tampered})),
        public_keys=[KEY.public_key()], now=BEFORE_EXPIRY)
    assert res.first_failure == "files"
    assert "data/reviews.csv" in res.first_failure_detail


def test_flipped_manifest_byte_fails_openssl_and_verify_names_signature(tmp_path):
    result, blob = build(key=KEY)
    folder = _unpack(tmp_path, blob)
    # flip one byte inside a value (the buyer's name), keeping canonical JSON
    index = result.manifest_bytes.index(b"Buyer Co") + 1
    tampered = flip(result.manifest_bytes, index)
    assert tampered != result.manifest_bytes and len(tampered) == len(result.manifest_bytes)
    (folder / "manifest.json").write_bytes(tampered)
    ssl = _openssl_verify(tmp_path, folder)
    assert ssl.returncode != 0
    assert "Signature Verification Failure" in ssl.stdout + ssl.stderr
    res = verify_package(_write(tmp_path, repack(blob, replace={"manifest.json": tampered})),
                         public_keys=[KEY.public_key()], now=BEFORE_EXPIRY)
    assert res.first_failure == "signature"


def test_flipped_signature_byte_fails_openssl_and_verify(tmp_path):
    result, blob = build(key=KEY)
    folder = _unpack(tmp_path, blob)
    tampered = flip(result.signature, 10)
    (folder / "manifest.sig").write_bytes(tampered)
    ssl = _openssl_verify(tmp_path, folder)
    assert ssl.returncode != 0
    res = verify_package(_write(tmp_path, repack(blob, replace={"manifest.sig": tampered})),
                         public_keys=[KEY.public_key()], now=BEFORE_EXPIRY)
    assert res.first_failure == "signature"


def test_info_zip_unzip_accepts_the_package(tmp_path):
    assert shutil.which("unzip"), "Info-ZIP unzip is required (apt-get install unzip; .ci/run installs it)"
    pkg = _write(tmp_path, build(key=KEY)[1])
    test = subprocess.run(["unzip", "-t", str(pkg)], capture_output=True, text=True)
    assert test.returncode == 0, test.stdout
    assert "No errors detected" in test.stdout


def _write(tmp_path, blob):
    path = tmp_path / "tampered.zip"
    path.write_bytes(blob)
    return path
