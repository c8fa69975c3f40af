"""The controller's records: what the database stores, as the layers pass it around.

Plain values, shared by ``db`` (which builds them from rows), ``domain`` and ``http`` (which renders them).
"""

from __future__ import annotations

CONFIG_SECTIONS = ("values", "memory", "cpu", "tags", "registry", "healthcheck")
