"""Check the double-entry ledger; exit non-zero naming the first problem."""

from django.core.management.base import BaseCommand, CommandError

from exchange.models import Account, LedgerTransfer
from exchange.services.ledger import ledger_verify


class Command(BaseCommand):
    help = ("Verify that every ledger transfer sums to zero and every account's cached balance "
            "equals the sum of its entries; name the first problem.")

    def handle(self, *args, **options):
        problem = ledger_verify()
        if problem is not None:
            raise CommandError(f"Ledger inconsistent: {problem.message}.")
        self.stdout.write(self.style.SUCCESS(
            f"Ledger balanced: {LedgerTransfer.objects.count()} transfers, {Account.objects.count()} accounts verified."))
