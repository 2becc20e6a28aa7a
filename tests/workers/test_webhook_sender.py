"""The sender: SSRF guard, no redirects, the timeout, the response excerpt — against a real
HTTP server on loopback."""

from __future__ import annotations

import ipaddress
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from workers.webhooks import sender


@pytest.fixture
def server():
    """Loopback server: /redirect answers 302 to /target, /slow waits for the test, /big sends 10 kB."""
    hits: list[str] = []
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length") or 0))
            hits.append(self.path)
            if self.path == "/slow":
                release.wait(30)
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("location", "/target")
                self.send_header("content-length", "0")
                self.end_headers()
                return
            body = b"x" * 10_000 if self.path == "/big" else b"ok"
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    release.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "::1",
                                     "fe80::1", "fd00::1", "::ffff:127.0.0.1", "0.0.0.0", "100.64.0.1", "224.0.0.1"])
def test_private_loopback_and_link_local_addresses_are_refused(address):
    assert sender.address_refused(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert not sender.address_refused(ipaddress.ip_address(address))


@pytest.mark.parametrize(("url", "problem"), [
    ("http://example.com/hook", "the URL must use https://"),
    ("ftp://example.com/hook", "the URL must start with https://"),
    ("https://user:pw@example.com/hook", "the URL may not contain a user name or password"),
    ("https:///hook", "the URL has no host"),
    ("https://127.0.0.1/hook", "127.0.0.1 is a private, loopback or link-local address"),
    ("https://[::1]:8443/hook", "::1 is a private, loopback or link-local address"),
    ("https://169.254.169.254/latest/meta-data", "169.254.169.254 is a private, loopback or link-local address"),
    ("https://example.com:99999/hook", "not a valid URL (Port out of range 0-65535)"),
])
def test_url_problems_are_named(url, problem):
    assert sender.url_problem(url, allow_private=False) == problem


def test_a_public_https_url_has_no_problem_and_private_ones_pass_when_allowed():
    assert sender.url_problem("https://hooks.example.com/shujiao?x=1", allow_private=False) is None
    assert sender.url_problem("http://127.0.0.1:8080/hook", allow_private=True) is None


def test_a_host_name_that_resolves_to_loopback_is_refused_at_send_time(server):
    base, hits = server
    port = base.rsplit(":", 1)[1]
    response = sender.post(f"https://localhost:{port}/hook", b"{}", {}, timeout=2, allow_private=False)
    assert response.status is None
    assert response.error.startswith("refused: localhost resolves to ")
    assert "private, loopback or link-local" in response.error
    assert hits == []


def test_a_post_to_loopback_when_allowed_reaches_the_server(server):
    base, hits = server
    response = sender.post(f"{base}/hook", b"{}", {"webhook-id": "msg_1"}, timeout=2, allow_private=True)
    assert (response.status, response.ok, response.excerpt) == (200, True, "ok")
    assert hits == ["/hook"]


def test_redirects_are_not_followed(server):
    base, hits = server
    response = sender.post(f"{base}/redirect", b"{}", {}, timeout=2, allow_private=True)
    assert (response.status, response.ok) == (302, False)
    assert response.headers["location"] == "/target"
    assert hits == ["/redirect"]  # /target never called


def test_a_receiver_that_does_not_answer_times_out(server):
    base, hits = server
    response = sender.post(f"{base}/slow", b"{}", {}, timeout=0.3, allow_private=True)
    assert response.status is None
    assert response.error.startswith("timed out")


def test_the_response_excerpt_is_bounded(server):
    base, _hits = server
    response = sender.post(f"{base}/big", b"{}", {}, timeout=2, allow_private=True)
    assert response.status == 200
    assert len(response.excerpt) == sender.EXCERPT_BYTES


def test_a_refused_connection_is_an_error_not_an_exception():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        response = sender.post(f"http://127.0.0.1:{port}/hook", b"{}", {}, timeout=2, allow_private=True)
    assert response.status is None
    assert response.error.startswith("ConnectionRefusedError")
