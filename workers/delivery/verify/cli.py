"""``verify`` command: check a delivery package with the exchange's published keys.

    python3 shujiao_verify.py PACKAGE.zip --keys https://exchange.example/.well-known/shujiao/keys.json
    python -m workers.delivery PACKAGE.zip --keys exchange-1a2b3c4d5e6f7a8b.pem

An age-sealed package (``PACKAGE.zip.age``) is verified after the buyer decrypted it
(``age -d -i identity.txt -o PACKAGE.zip PACKAGE.zip.age``); given the sealed file, the
command says so instead of reporting a broken archive.

``--keys`` takes a JWKS JSON file, a PEM file (one or more public keys), or an
http(s) URL serving either. Exit status: 0 verified, 1 verification failed (the first
failing check is named), 2 usage error (bad arguments, unreadable keys, no such file).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.request
from datetime import datetime
from typing import Any, TextIO

from .checks import verify_package
from .spec import key_id, load_public_key, public_keys_from_jwks

# A key document is small; refuse to read more than this from a URL or a file.
MAX_KEYS_BYTES = 1 << 20
URL_TIMEOUT = 15  # seconds
ENV_KEYS = "SHUJIAO_KEYS"

AGE_HEADER = b"age-encryption.org/v1"
_PEM_RE = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.S)


class UsageError(Exception):
    pass


def parse_keys(data: bytes, source: str = "keys") -> dict[str, Any]:
    """``{kid: key}`` from a JWKS document, a single JWK, or PEM public key(s)."""
    text = data.lstrip()
    if text.startswith(b"{"):
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UsageError(f"{source}: not valid JSON: {exc}") from None
        if isinstance(doc, dict) and "keys" not in doc and doc.get("kty"):
            doc = {"keys": [doc]}
        try:
            keys = public_keys_from_jwks(doc)
        except ValueError as exc:
            raise UsageError(f"{source}: {exc}") from None
    else:
        blocks = _PEM_RE.findall(data)
        if not blocks:
            raise UsageError(f"{source}: neither a JWKS JSON document nor a PEM public key")
        try:
            loaded = [load_public_key(b) for b in blocks]
        except ValueError as exc:
            raise UsageError(f"{source}: {exc}") from None
        keys = {key_id(k): k for k in loaded}
    if not keys:
        raise UsageError(f"{source}: contains no Ed25519 keys")
    return keys


def load_keys(spec: str) -> dict[str, Any]:
    """Keys from an http(s) URL or a file path."""
    if re.match(r"https?://", spec, re.I):
        try:
            with urllib.request.urlopen(spec, timeout=URL_TIMEOUT) as resp:  # noqa: S310 - http(s) only
                data = resp.read(MAX_KEYS_BYTES + 1)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot fetch keys from {spec}: {exc}") from None
    elif "://" in spec:
        raise UsageError(f"--keys: only http(s) URLs or files are supported, not {spec}")
    else:
        try:
            with open(spec, "rb") as f:
                data = f.read(MAX_KEYS_BYTES + 1)
        except OSError as exc:
            raise UsageError(f"cannot read keys file {spec}: {exc.strerror or exc}") from None
    if len(data) > MAX_KEYS_BYTES:
        raise UsageError(f"{spec}: key document larger than {MAX_KEYS_BYTES} bytes")
    return parse_keys(data, spec)


def _parser(prog: str | None = None) -> argparse.ArgumentParser:
    # prog None: argparse names the file that was run (``shujiao_verify.py``, whatever the buyer saved it as)
    p = argparse.ArgumentParser(
        prog=prog,
        description="Verify a Shujiao signed delivery package (SPEC section 5).",
    )
    p.add_argument("package", metavar="PACKAGE.zip")
    p.add_argument("--keys", metavar="URL_OR_FILE",
                   help=f"JWKS JSON file, PEM file or http(s) URL (default: ${ENV_KEYS})")
    p.add_argument("--now", metavar="ISO_TIME",
                   help="judge expiry at this time instead of now (e.g. 2027-01-01T00:00:00Z)")
    return p


def main(argv: list[str] | None = None, *, stdout: TextIO | None = None,
         stderr: TextIO | None = None, prog: str | None = None) -> int:
    """Run the command; ``prog`` is how usage and errors name it (default: the file that was run)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = _parser(prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage; --help exits 0
        return 0 if exc.code == 0 else 2
    try:
        spec = args.keys or os.environ.get(ENV_KEYS)
        if not spec:
            raise UsageError(f"no keys: pass --keys URL_OR_FILE or set {ENV_KEYS}")
        if not os.path.isfile(args.package):
            raise UsageError(f"no such file: {args.package}")
        now = None
        if args.now:
            try:
                now = datetime.fromisoformat(args.now.replace("Z", "+00:00"))
            except ValueError:
                raise UsageError(f"--now: not an ISO 8601 time: {args.now}") from None
            if now.tzinfo is None:
                raise UsageError("--now must carry a timezone, e.g. 2027-01-01T00:00:00Z")
        with open(args.package, "rb") as f:
            if f.read(len(AGE_HEADER)) == AGE_HEADER:
                plain = args.package.removesuffix(".age")
                plain = plain if plain != args.package else args.package + ".zip"
                raise UsageError(f"{args.package} is sealed with age: decrypt it first "
                                 f"(age -d -i your-age-identity.txt -o {plain} {args.package}), "
                                 f"then verify {plain}")
        keys = load_keys(spec)
    except OSError as exc:
        print(f"{parser.prog}: error: cannot read {args.package}: {exc.strerror or exc}", file=err)
        return 2
    except UsageError as exc:
        print(f"{parser.prog}: error: {exc}", file=err)
        return 2

    result = verify_package(args.package, public_keys=keys, now=now)
    width = max(len(c.name) for c in result.checks)
    for c in result.checks:
        mark = "SKIP" if c.skipped else ("PASS" if c.ok else "FAIL")
        print(f"{mark}  {c.name:<{width}}  {c.detail}", file=out)
    if result.ok:
        print(f"OK: {args.package} verified ({len(result.checks)} checks passed)", file=out)
        return 0
    print(f"FAILED: {result.first_failure}: {result.first_failure_detail}", file=out)
    return 1
