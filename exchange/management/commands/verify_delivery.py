"""``python manage.py verify_delivery PACKAGE.zip [--keys URL_OR_FILE]`` — the verifier buyers download as
``/verify/shujiao_verify.py`` (the same code: ``workers/delivery/verify/``), run from the exchange.

Exit status: 0 verified, 1 a check failed (named), 2 usage error.
"""

import os
import sys

from django.core.management.base import BaseCommand

from workers.delivery.cli import main


class Command(BaseCommand):
    help = "Verify a signed delivery package: signature, files, checksums, licence and expiry."

    def run_from_argv(self, argv):
        sys.exit(main([a for a in argv[2:] if not a.startswith("--settings")], prog=f"{os.path.basename(argv[0])} {argv[1]}"))
