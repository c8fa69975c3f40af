"""Entry point of the scheduler service: read settings, build the service, run until SIGTERM.

``deis-scheduler`` runs the service. ``deis-scheduler stop-processes`` stops every app process of the
local backend (for ``deis-platform down``); the desired states stay, so the next start brings them back.
"""

from __future__ import annotations

import asyncio
import sys

from deis_common.service import run_service
from deis_scheduler.backends.local.process import stop_all
from deis_scheduler.service import build
from deis_scheduler.settings import SchedulerSettings


def main() -> None:
    args = sys.argv[1:]
    if args == ["stop-processes"]:
        settings = SchedulerSettings()
        stopped = asyncio.run(
            stop_all(settings.scheduler.data_dir / "processes", settings.scheduler.stop_grace)
        )
        print(f"stopped {stopped} app process(es)")
        return
    if args:
        sys.exit("usage: deis-scheduler [stop-processes]")
    run_service(SchedulerSettings, build)


if __name__ == "__main__":
    main()
