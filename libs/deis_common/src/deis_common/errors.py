"""Error roots shared by every service.

Domain errors of each service derive from :class:`DeisError`; adapters re-raise driver exceptions as
one of these (``raise StoreError(...) from e``) so callers never depend on a driver's exception types.
"""

from __future__ import annotations


class DeisError(Exception):
    """Root of every error the platform raises on purpose."""


class ConfigurationError(DeisError):
    """Settings are missing or contradict each other."""


class BusError(DeisError):
    """The message bus could not do what was asked (connect, publish, request)."""


class NoResponders(BusError):
    """A request found nobody subscribed to answer it (as opposed to an answer that came too late)."""


class StoreError(DeisError):
    """The object store failed (I/O, permissions, the remote answered an error)."""


class ObjectNotFound(StoreError):
    """The requested object does not exist in the store."""

    def __init__(self, bucket: str, key: str) -> None:
        super().__init__(f"object {bucket}/{key} not found")
        self.bucket = bucket
        self.key = key


class RetryLater(DeisError):
    """A handler outcome: the work could not be done now; redeliver after ``delay`` seconds."""

    def __init__(self, reason: str, delay: float = 5.0) -> None:
        super().__init__(reason)
        self.delay = delay


class Reject(DeisError):
    """A handler outcome: the message can never be processed; do not redeliver it."""
