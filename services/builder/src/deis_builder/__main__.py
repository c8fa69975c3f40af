"""Entry point of the builder service: read settings, build the service, run until SIGTERM.

``deis-builder hook`` runs the pre-receive hook client instead (git calls it during a push).
"""

from __future__ import annotations

import sys

from deis_builder.service import build
from deis_builder.settings import Settings
from deis_common.service import run_service


def main() -> None:
    if sys.argv[1:2] == ["hook"]:
        from deis_builder.push.hookclient import main as hook_main

        sys.exit(hook_main())
    run_service(Settings, build)


if __name__ == "__main__":
    main()
