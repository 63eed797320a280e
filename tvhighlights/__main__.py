"""``python -m tvhighlights`` is the ``tvhighlights`` command."""

import sys

from .cli import main

sys.exit(main())
