"""Entry point of the controller service: read settings, build the service, run until SIGTERM."""

from __future__ import annotations

from deis_common.service import run_service
from deis_controller.service import build
from deis_controller.settings import ControllerSettings


def main() -> None:
    run_service(ControllerSettings, build)


if __name__ == "__main__":
    main()
