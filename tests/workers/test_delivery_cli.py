"""The verify command line: output and exit codes 0 / 1 / 2."""

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.workers.test_delivery_support import build, repack, seeded_key
from workers.delivery import jwk, jwks, public_key_pem
from workers.delivery.cli import main

KEY = seeded_key(1)
JWKS = jwks([jwk(KEY, status="active", not_before=None, not_after=None)])
NOW = ["--now", "2027-01-01T00:00:00Z"]


def run(argv, monkeypatch=None):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def files(tmp_path):
    pkg = tmp_path / "delivery.zip"
    blob = build(pkg, key=KEY)[1]
    keys_json = tmp_path / "keys.json"
    keys_json.write_text(json.dumps(JWKS))
    pem = tmp_path / "exchange-34750f98bd59fcfc.pem"
    pem.write_bytes(public_key_pem(KEY))
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(repack(blob, replace={"manifest.sig": b"\0" * 64}))
    return pkg, keys_json, pem, tampered


def test_ok_with_jwks_file_exit_0(files):
    pkg, keys_json, _, _ = files
    code, out, err = run([str(pkg), "--keys", str(keys_json), *NOW])
    assert code == 0, out + err
    lines = out.splitlines()
    assert [line.split()[:2] for line in lines[:8]] == [
        ["PASS", "archive"], ["PASS", "manifest"], ["PASS", "signature"], ["PASS", "files"],
        ["PASS", "inventory"], ["PASS", "sha256sums"], ["PASS", "license"], ["PASS", "expiry"]]
    assert lines[8] == f"OK: {pkg} verified (8 checks passed)"


def test_ok_with_pem_file(files):
    pkg, _, pem, _ = files
    assert run([str(pkg), "--keys", str(pem), *NOW])[0] == 0


def test_tampered_exit_1_names_first_failure(files):
    _, keys_json, _, tampered = files
    code, out, _ = run([str(tampered), "--keys", str(keys_json), *NOW])
    assert code == 1
    assert out.splitlines()[-1] == (
        "FAILED: signature: signature by key 34750f98bd59fcfc does not match manifest.json")


def test_expired_exit_1(files):
    pkg, keys_json, _, _ = files
    code, out, _ = run([str(pkg), "--keys", str(keys_json), "--now", "2030-01-01T00:00:00+08:00"])
    assert code == 1
    assert out.splitlines()[-1].startswith("FAILED: expiry: expired at 2027-11-27T10:00:00Z")


@pytest.mark.parametrize("argv_tail, message", [
    ([], "no keys"),
    (["--keys", "/nonexistent/keys.json"], "cannot read keys file"),
    (["--keys", "ftp://example.com/keys"], "only http(s)"),
    (["--keys", "BADKEYS"], "neither a JWKS"),
    (["--keys", "KEYS", "--now", "yesterday"], "--now"),
])
def test_usage_errors_exit_2(files, tmp_path, monkeypatch, argv_tail, message):
    pkg, keys_json, _, _ = files
    monkeypatch.delenv("SHUJIAO_KEYS", raising=False)
    bad = tmp_path / "bad.txt"
    bad.write_text("hello")
    argv = [str(pkg)] + [{"BADKEYS": str(bad), "KEYS": str(keys_json)}.get(a, a) for a in argv_tail]
    code, out, err = run(argv)
    assert code == 2
    assert message in err
    assert out == ""


def test_no_arguments_and_missing_package_exit_2(files, capsys):
    _, keys_json, _, _ = files
    assert run([])[0] == 2
    code, _, err = run(["/nonexistent.zip", "--keys", str(keys_json)])
    assert code == 2 and "no such file" in err


def test_keys_from_environment(files, monkeypatch):
    pkg, keys_json, _, _ = files
    monkeypatch.setenv("SHUJIAO_KEYS", str(keys_json))
    assert run([str(pkg), *NOW])[0] == 0


def test_keys_from_http_url(files):
    pkg, _, _, _ = files
    body = json.dumps(JWKS).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            if self.path != "/.well-known/shujiao/keys.json":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert run([str(pkg), "--keys", base + "/.well-known/shujiao/keys.json", *NOW])[0] == 0
        code, _, err = run([str(pkg), "--keys", base + "/missing.json", *NOW])
        assert code == 2 and "cannot fetch keys" in err
    finally:
        server.shutdown()
        server.server_close()
