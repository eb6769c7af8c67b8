"""What is wrong with a field, for a person and for a program: an English sentence that also carries a
stable code and its figures, so that the page can say it in the user's language (CONTRACT §4, issue 15).

A `Problem` is a `str` (the sentence), so every place that holds `{field: message}` keeps working; the
error answer adds `field_codes: {field: {"code", ...params}}` read from it.
"""

from __future__ import annotations

from typing import Any

INVALID = "invalid"  # a problem that names no code of its own

# pydantic's error types, as our codes: the figure each needs is taken from the error's ctx.
PYDANTIC_CODES: dict[str, tuple[str, str | None]] = {
    "missing": ("required", None),
    "extra_forbidden": ("unknown_field", None),
    "string_too_long": ("too_long", "max_length"),
    "string_too_short": ("blank", None),
    "too_long": ("too_many", "max_length"),
    "greater_than_equal": ("too_small", "ge"),
    "greater_than": ("too_small", "gt"),
    "less_than_equal": ("too_big", "le"),
    "less_than": ("too_big", "lt"),
    "literal_error": ("not_a_choice", "expected"),
    "string_type": ("not_text", None),
    "int_type": ("not_a_number", None),
    "int_parsing": ("not_a_number", None),
    "int_from_float": ("not_a_number", None),
    "bool_type": ("not_a_boolean", None),
    "bool_parsing": ("not_a_boolean", None),
    "list_type": ("not_a_list", None),
    "model_type": ("not_an_object", None),
    "model_attributes_type": ("not_an_object", None),
    "dict_type": ("not_an_object", None),
}


class Problem(str):
    code: str
    params: dict[str, Any]

    def __new__(cls, message: str, code: str = INVALID, **params: Any) -> Problem:
        problem = super().__new__(cls, message)
        problem.code, problem.params = code, params
        return problem

    def detail(self) -> dict[str, Any]:
        return {"code": self.code, **self.params}


class Rule(ValueError):
    """A validator's refusal with its code: pydantic keeps the exception, `field_errors` reads it."""

    def __init__(self, code: str, message: str, **params: Any):
        super().__init__(message)
        self.problem = Problem(message, code, **params)


def detail_of(message: str) -> dict[str, Any]:
    return message.detail() if isinstance(message, Problem) else {"code": INVALID}


def from_pydantic(error: Any, message: str) -> Problem:
    """One pydantic error (an item of ValidationError.errors()) as a Problem."""
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, Rule):
        return cause.problem
    if error["type"] == "value_error" and "email" in message:
        return Problem(message, "not_email")
    code, figure = PYDANTIC_CODES.get(error["type"], (INVALID, None))
    ctx = error.get("ctx") or {}
    params = {"limit": ctx[figure]} if figure and figure in ctx and figure != "expected" else {}
    if figure == "expected" and "expected" in ctx:
        params = {"choices": str(ctx["expected"])}
    return Problem(message, code, **params)
