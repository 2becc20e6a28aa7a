"""What makes one buyer's package theirs: the fingerprinted data copy and age encryption.

* :func:`fingerprinted_copy` reads the stored version once into a temporary file while
  checking its SHA-256 (a file changed at rest still fails loudly), then writes the
  buyer's marked copy beside it (workers.fingerprint). The package lists the copy's bytes
  in ``files``; ``source_sha256`` stays the stored version's hash.
* :func:`build_buyer_package` with the buyer's verified X25519 recipients encrypts the signed
  ZIP with age (pyrage, the maintained Python binding of the rage implementation) in the same
  pass that writes it (workers.delivery.seal): only the age file is written, the exchange holds
  no identity that opens it and never has a plaintext copy of the package.

The fingerprint secret comes from settings (``FINGERPRINT_SECRET``, from the
environment) and never reaches the database, a manifest or a log.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from exchange.models import AgeRecipient, Contract, DatasetVersion, Delivery, Organization

CHUNK = 1 << 20  # copy and encrypt in 1 MiB chunks: bounded memory whatever the file's size


def fingerprint_secret() -> bytes:
    secret = settings.FINGERPRINT_SECRET
    if not secret:
        raise ImproperlyConfigured("Set FINGERPRINT_SECRET (or FINGERPRINT_SECRET_FILE): it keys per-buyer fingerprints.")
    return secret.encode("utf-8")


def selection_key_for(version: DatasetVersion) -> bytes:
    from workers.fingerprint import selection_key

    return selection_key(fingerprint_secret(), str(version.pk))


def contract_key_for(contract: Contract) -> bytes:
    from workers.fingerprint import contract_key

    return contract_key(fingerprint_secret(), str(contract.dataset_version_id), str(contract.pk))


@dataclass
class MarkedCopy:
    """A buyer's marked data file (a temporary file, gone when the copy is closed)."""

    file: BinaryIO
    sha256: str
    size: int
    record: dict[str, Any]  # stored on the delivery: scheme, bound, plan, mark counts
    _stack: ExitStack = field(default_factory=ExitStack, repr=False)

    @property
    def manifest_entry(self) -> dict[str, str] | None:
        """None when nothing could be marked (no markable column): the manifest claims no mark."""
        if not self.record["plan"]["columns"]:
            return None
        return {"scheme": self.record["scheme"], "bound": self.record["bound"]}

    def close(self) -> None:
        self._stack.close()


def _hashing_copy(source: BinaryIO, dest: BinaryIO) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        h.update(chunk)
        dest.write(chunk)
        size += len(chunk)
    dest.flush()
    dest.seek(0)
    return h.hexdigest(), size


def plan_key(version: DatasetVersion, schema: Any, options: Any) -> str:
    """What a version's fingerprint plan is a function of: its bytes, the dataset schema, the offer's
    options and the scheme. Deliveries record it, so later buyers' copies reuse the plan."""
    from workers.fingerprint import SCHEME

    basis = [version.sha256, schema or {}, dataclasses.asdict(options), SCHEME]
    return hashlib.sha256(json.dumps(basis, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _known_plan(version: DatasetVersion, key: str):
    """The plan an earlier delivery of ``version`` computed under the same ``plan_key``, or None."""
    from workers.fingerprint import Plan

    record = (Delivery.objects.filter(dataset_version=version, fingerprint__plan_key=key)
              .values_list("fingerprint", flat=True).first())
    return Plan.from_json(record["plan"]) if record else None


def fingerprinted_copy(*, contract: Contract, version: DatasetVersion, source: BinaryIO) -> MarkedCopy | None:
    """The buyer's marked copy, or None when the offer delivers the stored bytes as they are.

    Raises workers.delivery.SourceIntegrityError when the stored file changed at rest and
    workers.fingerprint.TableError when it cannot be read as its format.
    """
    from workers.delivery import SourceIntegrityError
    from workers.fingerprint import HashingWriter, mark_file, plan_file

    options = contract.offer.fingerprint_options()
    if options is None:
        return None
    stack = ExitStack()
    try:
        original = stack.enter_context(tempfile.TemporaryFile(dir=settings.DELIVERY_TMP_DIR, prefix="shujiao-fp-src-"))
        actual, _ = _hashing_copy(source, original)
        if actual != version.sha256:
            raise SourceIntegrityError(version.sha256, actual)
        schema = contract.dataset_version.dataset.schema
        key = plan_key(version, schema, options)
        plan = _known_plan(version, key) or plan_file(original, version.format, schema=schema, options=options)
        marked = stack.enter_context(tempfile.TemporaryFile(dir=settings.DELIVERY_TMP_DIR, prefix="shujiao-fp-out-"))
        sink = HashingWriter(marked)
        result = mark_file(original, sink, version.format, plan=plan, selection=selection_key_for(version),
                           contract=contract_key_for(contract))
        original.close()  # the marked copy is all the package needs
        marked.flush()
        marked.seek(0)
        sha, size = sink.sha, sink.size
    except BaseException:
        stack.close()
        raise
    record = {"scheme": plan.scheme, "bound": contract.offer.fingerprint_bound, "plan": plan.to_json(), "plan_key": key,
              "marks": {"rows": result.rows, "rows_selected": result.rows_selected,
                        "rows_changed": result.rows_changed, "cells_changed": result.cells_changed,
                        "cells_marked": result.cells_marked}}
    return MarkedCopy(file=marked, sha256=sha.hexdigest(), size=size, record=record, _stack=stack)


def build_buyer_package(*, contract: Contract, version: DatasetVersion, source: BinaryIO, fields: dict[str, Any],
                        recipients: list[str] | None = None, **build: Any) -> tuple[Any, dict[str, Any] | None]:
    """Build the signed ZIP from the stored bytes, or from the buyer's marked copy when the offer
    says so; returns the package result and the fingerprint record (None: unmarked).

    With ``recipients`` (the buyer's age recipients) the ZIP is age-encrypted while it is built:
    ``build["out"]`` receives only the age file, the plaintext package exists nowhere, and the
    result's ``package_sha256``/``package_size`` are the ciphertext's."""
    if not recipients:
        return _build_package(contract=contract, version=version, source=source, fields=fields, **build)
    from workers.delivery.seal import SealedWriter

    with SealedWriter(build.pop("out"), recipients) as sealed:
        result, fingerprint = _build_package(contract=contract, version=version, source=source, fields=fields,
                                             **{**build, "out": sealed, "hash_package": False})
        cipher_sha, cipher_size = sealed.finish()
    return dataclasses.replace(result, package_sha256=cipher_sha, package_size=cipher_size), fingerprint


def _build_package(*, contract: Contract, version: DatasetVersion, source: BinaryIO, fields: dict[str, Any],
                   **build: Any) -> tuple[Any, dict[str, Any] | None]:
    from workers.delivery import build_package

    copy = fingerprinted_copy(contract=contract, version=version, source=source)
    if copy is None:
        return build_package(source=source, manifest_fields={**fields, "fingerprint": None},
                             expected_sha256=version.sha256, **build), None
    try:
        return build_package(source=copy.file, manifest_fields={**fields, "fingerprint": copy.manifest_entry},
                             expected_sha256=copy.sha256, source_sha256=version.sha256, **build), copy.record
    finally:
        copy.close()


# --- age -------------------------------------------------------------------------------
def recipients_for(buyer: Organization) -> list[str]:
    """The buyer's verified, unrevoked age recipients (sorted: the same order every build)."""
    return sorted(AgeRecipient.objects.filter(organization=buyer, verified_at__isnull=False, revoked_at__isnull=True)
                  .values_list("recipient", flat=True))


def store_package(package: BinaryIO, name: str, recipients: list[str]) -> str:
    """Store the finished package (``build_buyer_package``'s output, read from the start) under
    ``name``, or under ``name + ".age"`` when it was sealed to ``recipients``; returns the name used."""
    from django.core.files import File

    from exchange import storage

    if recipients:
        name += ".age"
    return storage.save(name, File(package, name=name))
