"""A change set applied to a map, as config and settings POSTs send them: a ``null`` unsets its key
(unsetting a key that is not there is a 422, naming the map), any other value sets it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from deis_controller.errors import Unprocessable


def _same(value: Any) -> Any:
    return value


def apply(
    name: str, base: Mapping[str, Any], changes: Mapping[str, Any], value: Callable[[Any], Any] = _same
) -> dict[str, Any]:
    """``base`` with ``changes`` applied; ``value`` converts what is set."""
    merged = dict(base)
    for key, new in changes.items():
        if new is None:
            if key not in merged:
                raise Unprocessable(f"{key} does not exist under {name}")
            del merged[key]
        else:
            merged[key] = value(new)
    return merged
