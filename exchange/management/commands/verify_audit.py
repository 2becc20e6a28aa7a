"""Recompute the audit hash chain; exit non-zero naming the first broken event.

With ``--checkpoint FILE`` also prove the log consistent with a signed checkpoint someone
kept (e.g. the ``audit_checkpoint`` of a delivery manifest) and name what broke if not.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exchange.services.audit import audit_verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and name the first broken event."

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", metavar="FILE", help="a signed audit checkpoint (C2SP note) to check the log against")
        parser.add_argument("--key", action="append", metavar="VKEY",
                            help="trusted verifier key name+keyid+base64 (repeatable; default: the log's own keys)")

    def handle(self, *args, **options):
        result = audit_verify_chain()
        problems = []
        if not result.ok:
            where = f" at event #{result.broken_seq}" if result.broken_seq is not None else ""
            problems.append(f"Audit chain broken{where}: {result.reason} ({result.checked} events verified).")
        else:
            self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {result.checked} events verified."))
        if options.get("checkpoint"):  # checked even when the chain is broken: both findings are reported
            problems += self._checkpoint(options["checkpoint"], options.get("key"))
        if problems:
            raise CommandError(" ".join(problems))

    def _checkpoint(self, path: str, keys: list[str] | None) -> list[str]:
        from exchange.services.transparency import audit_verify_checkpoint

        try:
            note = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read checkpoint {path}: {exc}") from None
        outcome = audit_verify_checkpoint(note, trusted_keys=keys)
        if not outcome.ok:
            return [f"Audit log NOT consistent with checkpoint {path}: {outcome.reason}."]
        self.stdout.write(self.style.SUCCESS(f"Audit log consistent with checkpoint {path}: {outcome.reason}."))
        return []
