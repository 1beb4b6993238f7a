"""Errors caused by the user's input: reported as one line, before any training starts."""

import sys


class UserInputError(Exception):
    """A bad setting or missing input; its message is the whole report."""


# every entry point's exit code for input it refuses (train.py, evaluate, report, weights,
# dashboard), as argparse's own for a bad argument
REFUSED = 2


def refuse(program: str, message: str) -> int:
    """Print the one line for refused input and return the exit code for it."""
    print(f"{program}: error: {message}", file=sys.stderr)
    return REFUSED
