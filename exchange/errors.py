"""Domain errors with stable codes. One handler (exchange.api.errors) turns them into HTTP."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal a user can act on. ``fields`` maps input field names to messages."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class InvalidInput(DomainError):
    status = 400
    code = "invalid_input"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """The object is not in a state that allows this action."""

    status = 409
    code = "conflict"


class LengthRequired(DomainError):
    """An upload sent without a Content-Length (Transfer-Encoding: chunked)."""

    status = 411
    code = "length_required"


class PayloadTooLarge(DomainError):
    status = 413
    code = "file_too_large"


class Gone(DomainError):
    status = 410
    code = "gone"


class Unprocessable(DomainError):
    status = 422
    code = "unprocessable"
