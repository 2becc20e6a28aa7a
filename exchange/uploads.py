"""An upload handler that hashes and sizes files while they stream in.

The file goes to a temporary file on disk in chunks (memory stays flat for a 1 GB
upload); SHA-256 and size are computed on the same pass, and the configured
MAX_UPLOAD_BYTES is enforced as the bytes arrive, also for uploads without a
Content-Length. When the temporary file cannot be written (disk full, I/O error) the
handler closes and deletes it at once and stops the upload; the view then answers
``storage_full`` (507) instead of a 500, and the worker holds no half-written file.
"""

from __future__ import annotations

import hashlib
import logging
import os

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler

logger = logging.getLogger(__name__)

# Multipart framing (boundaries, part headers, other form fields) on top of the file itself.
MULTIPART_OVERHEAD = 1024 * 1024


class HashingTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    # Django's default 64 KiB chunks cost ~3x the throughput on large files (measured in
    # bench/upload_bench.py); 1 MiB keeps memory trivially bounded per request.
    chunk_size = 1024 * 1024

    def new_file(self, *args, **kwargs):
        self._sha256 = hashlib.sha256()
        self._size = 0
        try:
            super().new_file(*args, **kwargs)
        except OSError as exc:
            self._storage_failed(exc)

    def receive_data_chunk(self, raw_data, start):
        self._size += len(raw_data)
        if self._size > settings.MAX_UPLOAD_BYTES:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=True)
        self._sha256.update(raw_data)
        try:
            return super().receive_data_chunk(raw_data, start)
        except OSError as exc:
            self._storage_failed(exc)

    def file_complete(self, file_size):
        try:
            file = super().file_complete(file_size)  # seek(0) flushes what is still buffered
        except OSError as exc:
            self._storage_failed(exc)
        if file is not None:
            file.sha256 = self._sha256.hexdigest()
        return file

    def _storage_failed(self, exc: OSError):
        """Close and delete the partial temporary file, remember why, and stop reading the upload."""
        file = getattr(self, "file", None)
        path = None
        if file is not None:
            try:
                path = file.temporary_file_path()
            except (AttributeError, OSError):
                path = None
            try:
                file.close()  # a NamedTemporaryFile: closing deletes it
            except OSError:
                pass
            if path and os.path.exists(path):
                try:
                    os.remove(path)
                except OSError:
                    logger.exception("could not remove the partial upload %s", path)
            del self.file  # the parser closes every handler's ``file``: there is none now
        self.request.upload_storage_error = exc
        logger.error("upload stopped after %d bytes: %s", self._size, exc)
        raise StopUpload(connection_reset=True) from exc


def upload_too_large(request) -> bool:
    """True when the request body is (or turned out to be) over the upload limit."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    return declared > settings.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD or getattr(request, "upload_too_large", False)


CHUNKED_MESSAGE = ("Uploads need a Content-Length header; chunked transfer encoding is not supported "
                   "(send the file with its length, e.g. curl -F file=@data.csv).")


def upload_without_length(request) -> bool:
    """True for a chunked body without Content-Length: Django would read it as empty."""
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked and not request.META.get("CONTENT_LENGTH")


def upload_storage_error(request):
    """The DomainError for an upload whose temporary file could not be written, or None."""
    from exchange.errors import storage_error

    exc = getattr(request, "upload_storage_error", None)
    return storage_error(exc) if exc is not None else None
