"""Errors caused by the user's input: reported as one line, before any training starts."""


class UserInputError(Exception):
    """A bad setting or missing input; its message is the whole report."""
