"""`python -m ff_lightning.dashboard`: the command's home is ff_lightning.analysis.dashboard."""

import sys

from ff_lightning.analysis.dashboard import main

if __name__ == "__main__":
    sys.exit(main())
