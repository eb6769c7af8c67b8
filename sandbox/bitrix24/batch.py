"""batch (reference §3 "batch"): up to 50 "method?query" commands under the batch's own auth.

The batch is one HTTP request for the leaky bucket; its sub-calls are counted in the request log as
"batch:<method>" and meet injected faults one by one (an error lands in result_error, a hang times
out the whole request); the injected latency is the request's, paid once, not per command.
Later commands may use earlier answers: $result[key], $result[key][field].
"""
from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from .envelope import fault_error, time_block
from .errors import GatewayTimeout, RestError
from .methods import Caller, ListPage, method, normalize_method
from .params import is_yes, parse_php_query

if TYPE_CHECKING:
    from .portal import Portal

MAX_COMMANDS = 50
SECTIONS = ("result", "result_error", "result_total", "result_next", "result_time")
_REFERENCE = re.compile(r"\$(result|error|total|next|time)\[([^\]]+)\]((?:\[[^\]]*\])*)")
_MISSING = object()


def run_batch(portal: "Portal", caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    commands = _commands(params.get("cmd"))
    if len(commands) > MAX_COMMANDS:
        raise RestError(400, "ERROR_BATCH_LENGTH_EXCEEDED", f"Max batch length exceeded ({MAX_COMMANDS})")
    outcome: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}
    for key, command in commands:
        succeeded = _run_command(portal, caller, key, command, outcome)
        if not succeeded and is_yes(params.get("halt", 0)):
            break
    return {section: php_array(values) for section, values in outcome.items()}


def _commands(cmd: Any) -> list[tuple[str, Any]]:
    if isinstance(cmd, dict):
        return [(str(key), value) for key, value in cmd.items()]
    if isinstance(cmd, list):
        return [(str(index), value) for index, value in enumerate(cmd)]
    return []


def _run_command(portal: "Portal", caller: Caller, key: str, command: Any, outcome: dict[str, dict[str, Any]]) -> bool:
    started_at, clock_start = portal.now(), time.perf_counter()
    try:
        if not isinstance(command, str) or not command.strip():
            raise RestError(400, "ERROR_ARGUMENT", "A batch command must be a string 'method?params'", argument=key)
        name, _, query = command.strip().partition("?")
        method_name = normalize_method(name)
        portal.request_log.count(f"batch:{method_name}")
        if method_name == "batch":
            raise RestError(405, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Batch call is not allowed")
        sub_params = _substitute(parse_php_query(query), outcome)
        sub_params.pop("auth", None)  # every command runs with the batch's own auth
        decision = portal.faults.decide(method_name, network=False)
        if decision:
            raise fault_error(decision)
        value = portal.execute(caller, method_name, sub_params)
    except GatewayTimeout:
        raise
    except RestError as error:
        outcome["result_error"][key] = error.body()
        return False
    if isinstance(value, ListPage):
        outcome["result"][key] = value.items
        if value.total is not None:
            outcome["result_total"][key] = value.total
        if value.next is not None:
            outcome["result_next"][key] = value.next
    else:
        outcome["result"][key] = value
    outcome["result_time"][key] = time_block(started_at, time.perf_counter() - clock_start)
    return True


def php_array(values: dict[str, Any]) -> Any:
    """json_encode of a PHP array: keys 0..n-1 (or none at all) give a JSON list, others an object."""
    if list(values) == [str(index) for index in range(len(values))]:
        return list(values.values())
    return values


def _substitute(value: Any, outcome: dict[str, dict[str, Any]]) -> Any:
    if isinstance(value, dict):
        return {key: _substitute(item, outcome) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, outcome) for item in value]
    if not isinstance(value, str) or "$" not in value:
        return value
    whole = _REFERENCE.fullmatch(value)
    if whole:  # a bare reference keeps the referenced value's type (an id stays an int, a list a list)
        resolved = _resolve(whole, outcome)
        return value if resolved is _MISSING else resolved
    return _REFERENCE.sub(lambda match: _as_text(_resolve(match, outcome), match.group(0)), value)


def _resolve(match: re.Match[str], outcome: dict[str, dict[str, Any]]) -> Any:
    kind, key, path = match.groups()
    current: Any = outcome["result" if kind == "result" else f"result_{kind}"].get(key, _MISSING)
    for segment in re.findall(r"\[([^\]]*)\]", path):
        if isinstance(current, dict):
            current = current.get(segment, _MISSING)
        elif isinstance(current, list) and segment.isdigit() and int(segment) < len(current):
            current = current[int(segment)]
        else:
            return _MISSING
    return current


def _as_text(value: Any, original: str) -> str:
    if value is _MISSING or isinstance(value, (dict, list)):
        return original
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


METHODS = {"batch": method(run_batch, atomic=False)}
