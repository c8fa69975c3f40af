"""App log lines: subjects of the ``DEIS_LOGS`` stream (1000 lines kept per app)."""

from __future__ import annotations

LOGS_STREAM = "DEIS_LOGS"
LOGS_PREFIX = "deis.v1.logs"
LINES_PER_APP = 1000


def log_subject(app: str) -> str:
    return f"{LOGS_PREFIX}.{app}"
