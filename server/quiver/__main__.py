"""``python -m quiver``: the same as the ``quiver`` command."""

import sys

from quiver.cli import main

sys.exit(main())
