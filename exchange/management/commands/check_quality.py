"""``python manage.py check_quality FILE [--schema SCHEMA.json] [--json]`` — the profiler's CLI.

Exit status: 0 when the gates pass, 1 when they fail (bad files included), 2 for usage errors.
"""

import sys

from django.core.management.base import BaseCommand

from workers.quality.cli import main


class Command(BaseCommand):
    help = "Profile a data file's quality and apply the listing gates (exit 0 pass, 1 fail, 2 usage)."

    def run_from_argv(self, argv):
        # The pure CLI owns argument parsing and exit codes; Django only dispatches to it.
        sys.exit(main([a for a in argv[2:] if not a.startswith("--settings")]))
