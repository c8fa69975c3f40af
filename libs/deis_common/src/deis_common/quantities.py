"""Sizes and durations as people write them in settings and limits, turned into numbers.

One grammar for the whole platform: the builder's build memory limit, the scheduler's memory limits and the
backup's timers all read through here. What counts as "no limit" (empty, ``0``) and the ``request/limit``
pairs of ``deis limits`` stay with their callers; this module only reads one quantity.
"""

from __future__ import annotations

import re

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_DURATION_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_size(text: str) -> int:
    """Bytes of ``512m``, ``2G``, ``2GiB``, ``256Mi``, ``1.5g`` or a plain byte count.

    Units are powers of 1024 in any case (Workflow's ``512M`` is the Kubernetes ``512Mi``); an ``i`` and a
    ``b`` after the unit are optional. Raises ``ValueError`` for anything else.
    """
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (use e.g. 512m or 2g)")
    return int(float(match[1]) * _SIZE_UNITS[match[2].lower()])


def parse_duration(value: str | float) -> float:
    """Seconds from ``4h``, ``1h30m``, ``90s``, ``2d`` or a plain number of seconds; more than zero."""
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip().lower()
        try:
            seconds = float(text)
        except ValueError:
            parts = _DURATION_PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise ValueError(
                    f"invalid duration {value!r}: use e.g. '4h', '30m', '1h30m', '90s' or seconds"
                ) from None
            seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"duration {value!r} must be positive")
    return seconds
