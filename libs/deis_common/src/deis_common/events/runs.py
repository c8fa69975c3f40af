"""Events of the ``runs`` family: one-off ``deis run`` processes."""

from __future__ import annotations

from typing import Self

from deis_common.events.base import REDACTED, Event


class RunFinished(Event):
    """A ``deis run`` ended; its output may print the app's config (``deis run env``), so it is secret."""

    subject = "deis.v1.runs.finished"
    confidential = True

    app: str
    run_id: str
    exit_code: int
    output: str = ""

    def redacted(self) -> Self:
        return self.model_copy(update={"output": REDACTED if self.output else ""})
