"""``python -m barenet``: the ``barenet`` command, for when its script is not on the PATH."""

import sys

from barenet.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
