"""`python -m scheduler`: the clock process (see scheduler/__init__.py)."""

import sys

from scheduler import main

sys.exit(main())
