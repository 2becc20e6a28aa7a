"""The one place that reads and writes stored files (dataset versions, delivery packages).

Services call these functions instead of ``default_storage`` directly, so the two backends
behave the same way and no caller assumes a disk shared with another process:

- ``local``: ``FileSystemStorage`` under ``MEDIA_ROOT`` (the embedded default, one machine).
- ``s3``: django-storages' ``S3Storage`` (any S3-compatible server). Reads go straight to
  the object with ``GetObject``: whole-object streams and ranged GETs (``Range: bytes=a-b``)
  read in chunks, so memory stays constant whatever the object's size; a worker that
  needs a seekable file (``local_copy``) streams the object into its own temporary
  directory, never into ``MEDIA_ROOT``.

Every failure of the backend (server unreachable, object missing, access denied) is raised
as :class:`StorageError`, a subclass of ``OSError``, so callers handle both backends alike.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO

from django.conf import settings
from django.core.files.storage import default_storage, storages

CHUNK = 1024 * 1024


class StorageError(OSError):
    """The storage backend could not do what was asked (unreachable, denied, …)."""


class StoredFileMissing(StorageError, FileNotFoundError):
    """No stored file by that name."""


def _is_s3() -> bool:
    from storages.backends.s3 import S3Storage

    return isinstance(storages["default"], S3Storage)


def backend_name() -> str:
    """``"s3"`` or ``"local"``: which backend ``STORAGES["default"]`` is now."""
    return "s3" if _is_s3() else "local"


# --- S3 helpers -------------------------------------------------------------------
def _s3_target(name: str) -> tuple[object, str, str]:
    """(boto3 client, bucket, key) for a stored name, with the storage's own key rules."""
    from storages.utils import clean_name

    storage = storages["default"]
    return storage.connection.meta.client, storage.bucket_name, storage._normalize_name(clean_name(name))


def _translate(exc: Exception, name: str) -> StorageError:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404", "NotFound"):
            return StoredFileMissing(f"no stored file {name!r}")
        return StorageError(f"object storage refused {name!r}: {code or exc}")
    return StorageError(f"object storage unreachable for {name!r}: {exc}")


def _s3_errors():
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def _s3_get(name: str, byte_range: str | None = None):
    client, bucket, key = _s3_target(name)
    params = {"Bucket": bucket, "Key": key}
    if byte_range:
        params["Range"] = byte_range
    try:
        return client.get_object(**params)["Body"]
    except _s3_errors() as exc:
        raise _translate(exc, name) from exc


class _BodyReader(io.RawIOBase):
    """A raw, read-only, non-seekable stream over a botocore ``StreamingBody``."""

    def __init__(self, body, name: str):
        self._body, self._name = body, name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._body.read(len(buffer))
        except _s3_errors() as exc:
            raise _translate(exc, self._name) from exc
        except OSError as exc:  # urllib3 protocol errors surface as OSError subclasses
            raise StorageError(f"object storage read of {self._name!r} broke off: {exc}") from exc
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


# --- The API services call -------------------------------------------------------
def save(name: str, content) -> str:
    """Store ``content`` (a Django ``File``/upload or a binary file object) under ``name``;
    returns the name actually used."""
    from django.core.files import File

    if not hasattr(content, "chunks"):
        content = File(content, name=name)
    try:
        return default_storage.save(name, content)
    except Exception as exc:
        if _is_s3() and isinstance(exc, _s3_errors()):
            raise _translate(exc, name) from exc
        raise


def delete(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception as exc:
        if _is_s3() and isinstance(exc, _s3_errors()):
            raise _translate(exc, name) from exc
        raise


def listdir(folder: str) -> list[str]:
    """Names of the files directly in ``folder`` (empty when it does not exist)."""
    try:
        _dirs, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    except Exception as exc:
        if _is_s3() and isinstance(exc, _s3_errors()):
            raise _translate(exc, folder) from exc
        raise
    return list(files)


def size(name: str) -> int:
    if _is_s3():
        client, bucket, key = _s3_target(name)
        try:
            return int(client.head_object(Bucket=bucket, Key=key)["ContentLength"])
        except _s3_errors() as exc:
            raise _translate(exc, name) from exc
    try:
        return default_storage.size(name)
    except FileNotFoundError as exc:
        raise StoredFileMissing(f"no stored file {name!r}") from exc


@contextmanager
def open_stream(name: str) -> Iterator[BinaryIO]:
    """A buffered binary stream of the whole stored file, read front to back in constant memory.

    S3: one ``GetObject`` whose body is read as the caller reads (not seekable).
    Local: the file itself.
    """
    if _is_s3():
        stream = io.BufferedReader(_BodyReader(_s3_get(name), name), buffer_size=CHUNK)
    else:
        try:
            stream = default_storage.open(name, "rb")
        except FileNotFoundError as exc:
            raise StoredFileMissing(f"no stored file {name!r}") from exc
    try:
        yield stream
    finally:
        stream.close()


def iter_range(name: str, start: int, length: int, chunk: int = CHUNK) -> Iterator[bytes]:
    """Yield ``length`` bytes of the stored file from ``start``, at most ``chunk`` at a time.

    S3: one ranged ``GetObject`` (``Range: bytes=start-end``), so only those bytes leave the
    server; local: seek and read. Memory is one chunk whatever ``length`` is.
    """
    if length <= 0:
        return
    if _is_s3():
        body = _BodyReader(_s3_get(name, f"bytes={start}-{start + length - 1}"), name)
        try:
            yield from _read_chunks(body, length, chunk)
        finally:
            body.close()
        return
    try:
        f = default_storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise StoredFileMissing(f"no stored file {name!r}") from exc
    with f:
        if start:
            f.seek(start)
        yield from _read_chunks(f, length, chunk)


def _read_chunks(f: IO[bytes], length: int, chunk: int) -> Iterator[bytes]:
    left = length
    while left > 0:
        data = f.read(min(chunk, left))
        if not data:
            break
        left -= len(data)
        yield data


@contextmanager
def local_copy(name: str, *, tmp_dir: str | os.PathLike | None = None) -> Iterator[Path]:
    """A local, seekable path holding the stored file's bytes, for code that needs one.

    Local backend: the stored file's own path (nothing copied). S3: the object streamed into
    a temporary file in ``tmp_dir`` (default ``STORAGE_TMP_DIR``, else the system's temp
    dir) — this process's own disk, never ``MEDIA_ROOT`` — removed on exit.
    """
    if not _is_s3():
        try:
            path = Path(default_storage.path(name))
        except NotImplementedError:  # a backend without paths: fall through to a copy
            path = None
        if path is not None:
            if not path.exists():
                raise StoredFileMissing(f"no stored file {name!r}")
            yield path
            return
    directory = tmp_dir or getattr(settings, "STORAGE_TMP_DIR", None) or None
    suffix = Path(name).suffix
    fd, tmp_name = tempfile.mkstemp(prefix="shujiao-copy-", suffix=suffix, dir=directory)
    try:
        with os.fdopen(fd, "wb") as out, open_stream(name) as src:
            while True:
                data = src.read(CHUNK)
                if not data:
                    break
                out.write(data)
        yield Path(tmp_name)
    finally:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
