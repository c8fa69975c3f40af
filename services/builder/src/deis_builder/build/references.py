"""Image references as Docker reads them, whatever this host's ``/etc/containers/registries.conf`` says.

buildah resolves a short name (``python:3.11``, ``deis/example-go``) through registries.conf: its
unqualified-search registries, aliases and short-name mode. Debian's default defines no search registry,
so a short name is refused there, and another host's file may send it elsewhere. ``docker pull`` (and so
Workflow, and every user who learned images from Docker Hub) reads a short name one way only:

- no ``/``: an official image, ``docker.io/library/<name>``;
- the part before the first ``/`` is a registry when it has a ``.`` or a ``:`` (``ghcr.io``,
  ``host:5000``), is ``localhost``, or has upper-case letters (repositories never do); otherwise the
  whole name is a Docker Hub repository, ``docker.io/<user>/<name>``;
- ``index.docker.io`` is ``docker.io``, and a one-part repository there is under ``library/``.

:func:`qualified` applies that, so buildah only ever sees fully qualified names. A reference with a
transport (``docker://``, ``oci-archive:``, ...) is left as it is: buildah does not search registries for
those (``docker://`` already reads names the way Docker does).
"""

from __future__ import annotations

DEFAULT_REGISTRY = "docker.io"
OFFICIAL_NAMESPACE = "library"
# The transports of containers/image (what buildah accepts before a ':'), as `alltransports` lists them.
TRANSPORTS = frozenset(
    [
        "docker",
        "docker-archive",
        "docker-daemon",
        "oci",
        "oci-archive",
        "dir",
        "containers-storage",
        "ostree",
        "sif",
        "tarball",
    ]
)


def transport_of(reference: str) -> str | None:
    """The transport a reference names (``oci-archive`` in ``oci-archive:/x.tar``), else None."""
    head, colon, _ = reference.partition(":")
    return head if colon and head in TRANSPORTS else None


def qualified(reference: str) -> str:
    """``reference`` with the registry Docker would pull it from spelled out.

    ``name`` → ``docker.io/library/name``, ``user/name:tag`` → ``docker.io/user/name:tag``; a name that
    already says its registry (``ghcr.io/x/y``, ``host:5000/y``, ``localhost/y``) and a reference with a
    transport are returned unchanged. The tag or digest is kept as given (buildah adds ``latest``).
    """
    if transport_of(reference) is not None:
        return reference
    first, slash, rest = reference.partition("/")
    if slash and _is_registry(first):
        registry, path = first, rest
    else:
        registry, path = DEFAULT_REGISTRY, reference
    if registry == "index.docker.io":
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = f"{OFFICIAL_NAMESPACE}/{path}"
    return f"{registry}/{path}"


def _is_registry(component: str) -> bool:
    return "." in component or ":" in component or component == "localhost" or component != component.lower()
