"""Shared builders for the delivery tests (no tests here; plain functions, no fixtures)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from workers.delivery import build_package

ISSUED = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)
EXPIRES = datetime(2027, 11, 27, 10, 0, 0, tzinfo=UTC)
BEFORE_EXPIRY = datetime(2027, 1, 1, tzinfo=UTC)
LICENSE_TEXT = "数据使用许可\nPurpose: model training only.\n"
DATA = b"id,text,label\n" + b"".join(b"%d,review %d,pos\n" % (i, i) for i in range(1000))


def seeded_key(seed: int = 1) -> Ed25519PrivateKey:
    """A deterministic key, so ids and signatures are exact values."""
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


def fields(**overrides):
    f = {
        "delivery_id": "dlv-0001",
        "contract_id": "ctr-0001",
        "listing_id": "lst-0001",
        "dataset_version_id": "ver-0001",
        "seller": {"name": "北京数据有限公司", "credit_code": "91110000600037341L"},
        "buyer": {"name": "Buyer Co", "credit_code": "91310000MA1FL0DW0B"},
        "license": {"purpose": "research", "term_days": 365, "download_limit": 5,
                    "redistribution": False},
        "issued_at": ISSUED,
        "expires_at": EXPIRES,
    }
    f.update(overrides)
    return f


def build(path: Path | None = None, *, data: bytes = DATA, key=None, data_path="data/reviews.csv",
          **kwargs):
    """Build a package from ``data`` into ``path`` (or memory); returns (result, zip bytes)."""
    out = io.BytesIO()
    kw = dict(source=io.BytesIO(data), out=out, data_path=data_path, license_text=LICENSE_TEXT,
              manifest_fields=fields(), expected_sha256=hashlib.sha256(data).hexdigest(),
              private_key=key or seeded_key())
    kw.update(kwargs)
    result = build_package(**kw)
    blob = out.getvalue()
    if path is not None:
        Path(path).write_bytes(blob)
    return result, blob


def repack(blob: bytes, *, replace=None, add=None, drop=()) -> bytes:
    """A copy of a ZIP with members replaced/added/dropped (fresh, valid CRCs)."""
    replace, add = replace or {}, add or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            dst.writestr(info.filename, replace.get(info.filename, src.read(info)))
        for name, payload in add.items():
            dst.writestr(zipfile.ZipInfo(name), payload)
    return out.getvalue()


def flip(data: bytes, index: int) -> bytes:
    b = bytearray(data)
    b[index] ^= 0x01
    return bytes(b)
