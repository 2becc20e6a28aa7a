"""POST one webhook message: SSRF guard, connect to the checked address, 15 s timeout,
no redirects, a bounded response excerpt.

The host name is resolved once and every address checked; the connection then goes to
the checked address (the Host header and TLS SNI still carry the name), so a DNS answer
that changes between the check and the connect (rebinding) cannot reach a private host.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# The log keeps the start of a response: enough to see an error message, never a big body.
EXCERPT_BYTES = 500
USER_AGENT = "Shujiao-Webhooks/1"


class UnsafeTarget(Exception):
    """The URL may not be called (scheme, host, or an address in a refused range)."""


@dataclass
class Response:
    status: int | None  # None: no HTTP answer (refused, timed out, unsafe)
    excerpt: str = ""
    error: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def address_refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Private, loopback, link-local, multicast, reserved or unspecified addresses."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global)


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """Why a URL cannot be an endpoint (without resolving it), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — raises on a bad port
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme not in ("https", "http"):
        return "the URL must start with https://"
    if parts.scheme == "http" and not allow_private:
        return "the URL must use https://"
    if not parts.hostname:
        return "the URL has no host"
    if parts.username or parts.password:
        return "the URL may not contain a user name or password"
    if len(url) > 2000:
        return "the URL is longer than 2000 characters"
    try:
        ip = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return None
    if not allow_private and address_refused(ip):
        return f"{ip} is a private, loopback or link-local address"
    return None


def resolve_checked(host: str, port: int, *, allow_private: bool) -> str:
    """One address of ``host`` after checking all of them; raises UnsafeTarget."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeTarget(f"cannot resolve {host}: {exc.strerror or exc}") from None
    addresses = [info[4][0] for info in infos]
    if not allow_private:
        for address in addresses:
            if address_refused(ipaddress.ip_address(address.split("%")[0])):
                raise UnsafeTarget(f"{host} resolves to {address}, a private, loopback or link-local address")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout, context):
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool,
         ssl_context: ssl.SSLContext | None = None) -> Response:
    """POST ``body``; never raises for network or HTTP failures, never follows a redirect."""
    problem = url_problem(url, allow_private=allow_private)
    if problem:
        return Response(status=None, error=f"refused: {problem}")
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        address = resolve_checked(parts.hostname, port, allow_private=allow_private)
    except UnsafeTarget as exc:
        return Response(status=None, error=f"refused: {exc}")
    if https:
        conn = _PinnedHTTPSConnection(parts.hostname, port, address, timeout, ssl_context or ssl.create_default_context())
    else:
        conn = _PinnedHTTPConnection(parts.hostname, port, address, timeout)
    try:
        conn.request("POST", path, body=body, headers={**headers, "user-agent": USER_AGENT,
                                                        "content-length": str(len(body))})
        answer = conn.getresponse()
        excerpt = answer.read(EXCERPT_BYTES).decode("utf-8", errors="replace")
        return Response(status=answer.status, excerpt=excerpt,
                        headers={k.lower(): v for k, v in answer.getheaders()})
    except (OSError, http.client.HTTPException) as exc:
        kind = "timed out" if isinstance(exc, TimeoutError | socket.timeout) else type(exc).__name__
        return Response(status=None, error=f"{kind}: {exc}"[:500])
    finally:
        conn.close()
