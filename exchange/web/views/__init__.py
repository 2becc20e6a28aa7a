"""Web views, one module per area. Error handlers are re-exported for ROOT_URLCONF's handler404 etc."""

from .errors import bad_request, forbidden, not_found, server_error

__all__ = ["bad_request", "forbidden", "not_found", "server_error"]
