"""An upload handler that hashes and sizes files while they stream in.

The file goes to a temporary file on disk in chunks (memory stays flat for a 1 GB
upload); SHA-256 and size are computed on the same pass, and the configured
MAX_UPLOAD_BYTES is enforced as the bytes arrive, also for uploads without a
Content-Length.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler

# Multipart framing (boundaries, part headers, other form fields) on top of the file itself.
MULTIPART_OVERHEAD = 1024 * 1024


class HashingTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    # Django's default 64 KiB chunks cost ~3x the throughput on large files (measured in
    # bench/upload_bench.py); 1 MiB keeps memory trivially bounded per request.
    chunk_size = 1024 * 1024

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self._sha256 = hashlib.sha256()
        self._size = 0

    def receive_data_chunk(self, raw_data, start):
        self._size += len(raw_data)
        if self._size > settings.MAX_UPLOAD_BYTES:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=True)
        self._sha256.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        file = super().file_complete(file_size)
        if file is not None:
            file.sha256 = self._sha256.hexdigest()
        return file


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
