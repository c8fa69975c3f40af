"""Entry point of the router-sync service: read settings, build the service, run until SIGTERM."""

from __future__ import annotations

from deis_common.service import run_service
from deis_router_sync.service import build
from deis_router_sync.settings import RouterSyncSettings


def main() -> None:
    run_service(RouterSyncSettings, build)


if __name__ == "__main__":
    main()
