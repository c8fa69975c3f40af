"""Events of the ``runs`` family: one-off ``deis run`` processes."""

from __future__ import annotations

from deis_common.events.base import Event


class RunFinished(Event):
    subject = "deis.v1.runs.finished"

    app: str
    run_id: str
    exit_code: int
    output: str = ""
