"""``python -m itbcoach``."""

import sys

from itbcoach.cli.main import main

sys.exit(main())
