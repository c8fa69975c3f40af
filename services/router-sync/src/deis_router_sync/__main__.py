"""Entry point of the router-sync service: read settings, build the service, run until SIGTERM."""

from __future__ import annotations

from deis_common.service import Service, run_service
from deis_common.settings import ServiceSettings


def build(settings: ServiceSettings) -> Service:
    return Service("router-sync", settings)


def main() -> None:
    run_service(ServiceSettings, build)


if __name__ == "__main__":
    main()
