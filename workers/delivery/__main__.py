"""``python -m workers.delivery PACKAGE.zip --keys URL_OR_FILE``"""

import sys

from .cli import main

sys.exit(main(prog="python -m workers.delivery"))
