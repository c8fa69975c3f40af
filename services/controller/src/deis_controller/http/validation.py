"""pydantic validation errors rendered the way the v2 API reports field errors."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from deis_controller.errors import FieldErrors

M = TypeVar("M", bound=BaseModel)

_MESSAGES = {
    "missing": "This field is required.",
    "string_type": "Not a valid string.",
    "bool_type": "Must be a valid boolean.",
    "bool_parsing": "Must be a valid boolean.",
    "int_type": "A valid integer is required.",
    "int_parsing": "A valid integer is required.",
    "int_from_float": "A valid integer is required.",
    "dict_type": "Expected a dictionary of items.",
    "list_type": "Expected a list of items.",
}


def field_errors(error: ValidationError) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in error.errors():
        loc = item["loc"]
        field = str(loc[0]) if loc else "non_field_errors"
        kind = item["type"]
        if kind == "value_error":
            message = str(item.get("ctx", {}).get("error", item["msg"]))
        else:
            message = _MESSAGES.get(kind, item["msg"])
        if kind == "string_too_long":
            message = f"Ensure this field has no more than {item['ctx']['max_length']} characters."
        if kind == "string_too_short" and item["ctx"].get("min_length") == 1:
            message = "This field may not be blank."
        out.setdefault(field, [])
        if message not in out[field]:
            out[field].append(message)
    return out


def parse(model: type[M], data: dict[str, Any]) -> M:
    """``data`` as ``model``, or a 400 with the v2 API's field-error body."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise FieldErrors(field_errors(e)) from e
