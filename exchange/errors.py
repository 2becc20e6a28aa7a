"""Domain errors with stable codes. One handler (exchange.api.errors) turns them into HTTP."""

from __future__ import annotations

import errno


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


class Unauthenticated(DomainError):
    """The credentials given with the request are wrong (answered with ``WWW-Authenticate``)."""

    status = 401
    code = "invalid_credentials"


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


class StorageFull(DomainError):
    """The exchange's disk (or storage quota) is full: nothing was kept, try again later."""

    status = 507
    code = "storage_full"


class StorageUnavailable(DomainError):
    """The file store failed for another reason (I/O error, permissions): nothing was kept."""

    status = 503
    code = "storage_unavailable"


class Gone(DomainError):
    status = 410
    code = "gone"


class Unprocessable(DomainError):
    status = 422
    code = "unprocessable"


def storage_error(exc: OSError) -> DomainError:
    """What to answer when writing to the exchange's disk or storage failed (nothing was kept)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull("The exchange's storage is full, so the file was not kept; try again later.",
                           fields={"file": ["Not stored: the exchange's storage is full. Try again later."]})
    return StorageUnavailable(f"The exchange could not store the file ({exc.strerror or exc}); try again later.",
                              fields={"file": ["Not stored: the exchange's storage failed. Try again later."]})
