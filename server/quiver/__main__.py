"""``python -m quiver``: the same command line as the ``quiver`` script."""

import sys

from quiver.cli import main

sys.exit(main())
