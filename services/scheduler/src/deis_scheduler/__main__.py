"""Entry point of the scheduler service: read settings, build the service, run until SIGTERM."""

from __future__ import annotations

from deis_common.service import run_service
from deis_scheduler.service import build
from deis_scheduler.settings import SchedulerSettings


def main() -> None:
    run_service(SchedulerSettings, build)


if __name__ == "__main__":
    main()
