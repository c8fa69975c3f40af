"""Entry point of the ``deis-platform`` console script."""

from __future__ import annotations

import sys

from deis_platform.cli import run


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
