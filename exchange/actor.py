"""Who is acting: a user (web session), an API key, staff, or the system (workers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exchange.models import ApiKey, Organization


@dataclass(frozen=True)
class Actor:
    type: str  # matches AuditEvent.ActorType
    user: Any = None
    api_key: ApiKey | None = None
    organization: Organization | None = None
    origin_ip: str = ""
    sharing_token: Any = None  # a Delta Sharing bearer token (exchange.models.SharingToken)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(type="system", user=None, origin_ip=label)

    @classmethod
    def for_sharing_token(cls, token, *, organization, origin_ip: str = "") -> Actor:
        """A buyer's system reading over Delta Sharing with a profile's bearer token."""
        return cls(type="sharing_token", organization=organization, origin_ip=origin_ip, sharing_token=token)

    @classmethod
    def from_request(cls, request) -> Actor:
        """The actor behind an HTTP request (session user or API key), with its origin IP."""
        from exchange.models import ApiKey

        ip = client_ip(request)
        auth = getattr(request, "auth", None)
        if isinstance(auth, ApiKey):
            return cls(type="api_key", user=None, api_key=auth, organization=auth.organization, origin_ip=ip)
        user = request.user if request.user.is_authenticated else None
        organization = None
        if user is not None:
            membership = getattr(user, "membership", None) if hasattr(user, "membership") else None
            organization = membership.organization if membership else None
        kind = "staff" if user is not None and user.is_staff and organization is None else "user"
        return cls(type=kind, user=user, organization=organization, origin_ip=ip)

    @property
    def id(self) -> str:
        if self.api_key is not None:
            return str(self.api_key.pk)
        if self.user is not None:
            return str(self.user.pk)
        if self.sharing_token is not None:
            return str(self.sharing_token.pk)
        return ""

    @property
    def label(self) -> str:
        if self.api_key is not None:
            return f"api-key {self.api_key.prefix}"
        if self.user is not None:
            return self.user.get_username()
        if self.sharing_token is not None:
            return f"sharing-token {str(self.sharing_token.pk)[:8]}"
        return "system"

    def has_scope(self, scope: str) -> bool:
        """Session users hold every scope of their firm; API keys only those granted."""
        if self.sharing_token is not None:
            return scope == "read"
        return self.api_key is None or scope in self.api_key.scopes


def client_ip(request) -> str:
    """The request's origin address (REMOTE_ADDR; a trusted proxy should set it correctly)."""
    return request.META.get("REMOTE_ADDR", "") or ""
