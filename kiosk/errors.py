"""The one error type a user sees: a plain sentence, never a traceback."""


class UserError(Exception):
    """A mistake or refusal to be shown to the user as one plain (Chinese) sentence."""

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
