"""``python -m barenet.course build|grade ...``: the same as ``barenet course build|grade``."""

import sys

from barenet.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["course", *sys.argv[1:]]))
