"""`python -m ff_lightning.report`: the command's home is ff_lightning.analysis.report."""

import sys

from ff_lightning.analysis.report import main

if __name__ == "__main__":
    sys.exit(main())
