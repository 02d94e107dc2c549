"""The one error type of the viewer: bad input, or no working OpenGL."""


class ViewerError(ValueError):
    """A user-facing viewer error. Its message is one line: what is wrong, and how to fix it."""

    def __init__(self, message: str):
        super().__init__(" ".join(message.split()))
