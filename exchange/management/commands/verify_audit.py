"""Recompute the audit hash chain; exit non-zero naming the first broken event."""

from django.core.management.base import BaseCommand, CommandError

from exchange.services.audit import audit_verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and name the first broken event."

    def handle(self, *args, **options):
        result = audit_verify_chain()
        if not result.ok:
            where = f" at event #{result.broken_seq}" if result.broken_seq is not None else ""
            raise CommandError(f"Audit chain broken{where}: {result.reason} "
                               f"({result.checked} events verified).")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {result.checked} events verified."))
