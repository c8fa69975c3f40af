"""The builder's own errors."""

from __future__ import annotations

from deis_common.errors import DeisError


class BuildError(DeisError):
    """A build failed for a reason the user must see; nothing is released."""


class SandboxError(DeisError):
    """The sandbox or a host command could not be started (bubblewrap, git or buildah missing or refused)."""
