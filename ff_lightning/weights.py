"""`python -m ff_lightning.weights`: the command's home is ff_lightning.run.weights."""

import sys

from ff_lightning.run.weights import main

if __name__ == "__main__":
    sys.exit(main())
