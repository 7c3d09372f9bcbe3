"""``python -m itbcoach``."""

import sys

try:
    from itbcoach.cli.main import main
except KeyboardInterrupt:  # Ctrl-C in the first moments, while Python imports
    print("itbcoach: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
