"""Webhook fixtures: a real HTTP receiver on loopback (http.server in a thread) and endpoints."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers ``fail_first`` calls with ``fail_status`` (and ``fail_headers``), then 2xx.

    ``answers`` overrides the reply per call number (1-based): {3: (410, {})}.
    ``block`` (an Event) makes every handler wait on it: a receiver that never answers.
    """

    url: str = ""
    fail_first: int = 0
    fail_status: int = 503
    fail_headers: dict[str, str] = field(default_factory=dict)
    answers: dict[int, tuple[int, dict[str, str]]] = field(default_factory=dict)
    block: threading.Event | None = None
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reply_for(self, number: int) -> tuple[int, dict[str, str]]:
        if number in self.answers:
            return self.answers[number]
        if number <= self.fail_first:
            return self.fail_status, self.fail_headers
        return 204, {}

    @property
    def accepted(self) -> list[Call]:
        return [c for c in self.calls if 200 <= c.status < 300]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 — http.server's naming
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if receiver.block is not None:
                receiver.block.wait(30)
            with receiver.lock:
                number = len(receiver.calls) + 1
                status, headers = receiver.reply_for(number)
                receiver.calls.append(Call(self.path, {k.lower(): v for k, v in self.headers.items()}, body, status))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            reply = b"" if status == 204 else f"answer {status} to call {number}".encode()
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver():
    """A started receiver; ``receiver.url`` is http://127.0.0.1:<port>/hook."""
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    if state.block is not None:
        state.block.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_endpoint(actor_for):
    from exchange.models.webhooks import EVENT_TYPES
    from exchange.services.webhooks import endpoint_create

    def _make(org, url, events=EVENT_TYPES, description="ERP"):
        return endpoint_create(actor=actor_for(org), url=url, event_types=list(events), description=description)

    return _make


# Trading and delivery fixtures, shared with those test packages.
from tests.delivery.conftest import build_now, paid_contract, signing_key  # noqa: E402,F401
from tests.trading.conftest import fund, key_actor, make_offer  # noqa: E402,F401
