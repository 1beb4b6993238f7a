"""`python -m ff_lightning.records`: the command's home is ff_lightning.analysis.records."""

import sys

from ff_lightning.analysis.records import main

if __name__ == "__main__":
    sys.exit(main())
