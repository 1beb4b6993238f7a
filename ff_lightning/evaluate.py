"""`python -m ff_lightning.evaluate`: the command's home is ff_lightning.run.evaluate."""

import sys

from ff_lightning.run.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
