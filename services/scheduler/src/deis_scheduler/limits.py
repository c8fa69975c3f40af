"""Memory and CPU limits as users write them (``deis limits:set web=512M``, ``web=500m``) turned into numbers.

Accepts Workflow's forms: a plain number of bytes, a unit suffix ``K``/``M``/``G`` (optionally ``B``, or the
Kubernetes ``Ki``/``Mi``/``Gi``; :func:`deis_common.quantities.parse_size` reads them), and ``request/limit``
pairs of which the limit counts. CPU is in cores (``1``, ``0.5``) or millicores (``500m``).
"""

from __future__ import annotations

import re

from deis_common.quantities import parse_size

_CPU = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m?)\s*$")

MIN_MEMORY = 4 * 1024 * 1024


class LimitError(ValueError):
    """A limit that cannot be understood."""


def _limit_part(value: str) -> str:
    return value.split("/")[-1]


def memory_bytes(value: str | None) -> int | None:
    """Bytes of a memory limit, or None when there is none."""
    if not value:
        return None
    try:
        result = parse_size(_limit_part(value))
    except ValueError:
        raise LimitError(f"memory limit {value!r} must look like 512M, 1G or 268435456") from None
    return max(result, MIN_MEMORY)


def cpu_cores(value: str | None) -> float | None:
    """Cores of a CPU limit (``500m`` -> 0.5), or None when there is none."""
    return _cores(value, _limit_part(value) if value else "")


def cpu_request(value: str | None) -> float | None:
    """Cores of a CPU request: the first part of ``request/limit``, or the one value (Kubernetes: the
    request defaults to the limit); None when there is none."""
    return _cores(value, value.split("/")[0] if value else "")


def _cores(value: str | None, part: str) -> float | None:
    if not value:
        return None
    match = _CPU.match(part)
    if match is None:
        raise LimitError(f"cpu limit {value!r} must look like 500m, 1 or 0.25")
    number, milli = match.groups()
    cores = float(number) / (1000 if milli else 1)
    if cores <= 0:
        raise LimitError(f"cpu limit {value!r} must be more than 0")
    return cores
