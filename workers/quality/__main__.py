"""python -m workers.quality FILE [--schema SCHEMA.json] [--json] (see cli.py)."""

import sys

from .cli import main

sys.exit(main())
