"""`python -m erniem.cli`: the `erniem` command."""

import sys

from . import main

sys.exit(main())
