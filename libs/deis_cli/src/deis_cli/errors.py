"""The one error type commands raise; ``__main__`` prints it as ``Error: <message>`` and exits 1."""

from __future__ import annotations


class CLIError(Exception):
    """A failure the user should read; ``prefix`` goes before ``Error:`` ("Registration failed: ")."""

    def __init__(self, message: str, *, prefix: str = "", exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.prefix = prefix
        self.exit_code = exit_code


class APIError(CLIError):
    """The controller answered with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
