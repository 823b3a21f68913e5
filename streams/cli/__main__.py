"""``python -m streams.cli``: the ``kawal`` command."""

import sys

from streams.cli import main

sys.exit(main())
