"""The one error type users see: a single line naming the problem and the fix."""


class SemantifyError(Exception):
    """A user-facing error. Its message is one line: what is wrong, and how to fix it."""

    def __init__(self, message: str):
        super().__init__(" ".join(message.split()))
