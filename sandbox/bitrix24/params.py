"""Request parameters the way PHP ($_GET/$_POST) sees them, plus small value readers.

Bitrix24 is PHP: `attendees[]=1&attendees[]=2`, `meeting[notify]=Y` and `remind[0][type]=min` arrive as
nested arrays. parse_php_query turns such a query into dicts and lists (a PHP array with keys 0..n-1
becomes a list, as json_encode would show it); build_php_query is the inverse, for batch commands.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping
from urllib.parse import parse_qsl, urlencode

_BRACKET = re.compile(r"\[([^\]]*)\]")


def parse_php_query(query: str) -> dict[str, Any]:
    return parse_php_pairs(parse_qsl(query, keep_blank_values=True))


def parse_php_pairs(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        path = _key_path(raw_key)
        if path:
            _assign(root, path, value)
    return _as_php_json(root)


def build_php_query(params: Mapping[str, Any]) -> str:
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        _flatten(str(key), value, pairs)
    return urlencode(pairs)


def _key_path(raw_key: str) -> list[str]:
    """'a[b][]' -> ['a', 'b', '']; a key with unbalanced brackets is taken literally."""
    start = raw_key.find("[")
    if start <= 0:
        return [raw_key] if raw_key else []
    base, rest = raw_key[:start], raw_key[start:]
    parts = _BRACKET.findall(rest)
    if "".join(f"[{part}]" for part in parts) != rest:
        return [raw_key]
    return [base, *parts]


def _assign(container: dict[str, Any], path: list[str], value: Any) -> None:
    for segment in path[:-1]:
        key = segment or _next_index(container)
        child = container.get(key)
        if not isinstance(child, dict):
            child = container[key] = {}
        container = child
    container[path[-1] or _next_index(container)] = value


def _next_index(container: dict[str, Any]) -> str:
    indexes = [int(key) for key in container if _is_index(key)]
    return str(max(indexes) + 1) if indexes else "0"


def _is_index(key: str) -> bool:
    return key.isdigit() and key == str(int(key))


def _as_php_json(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    converted = {key: _as_php_json(item) for key, item in value.items()}
    if converted and list(converted) == [str(i) for i in range(len(converted))]:
        return list(converted.values())
    return converted


def _flatten(prefix: str, value: Any, pairs: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}[{key}]", item, pairs)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _flatten(f"{prefix}[{index}]", item, pairs)
    elif isinstance(value, bool):
        pairs.append((prefix, "1" if value else "0"))  # as PHP http_build_query does
    else:
        pairs.append((prefix, str(value)))


def get_ci(params: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """Older modules (user, im) upper-case the parameter names, so any case is accepted there."""
    wanted = name.upper()
    for key, value in params.items():
        if str(key).upper() == wanted:
            return value
    return default


def is_yes(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().upper() in {"Y", "YES", "TRUE", "1"}
    return bool(value)


def is_y(value: Any) -> bool:
    """The core's `$params[...] === "Y"` (calendar is_meeting, skip_time, private_event): only the string Y,
    not "y", not JSON true."""
    return isinstance(value, str) and value == "Y"


def php_bool(value: Any) -> bool:
    """PHP's (bool) cast, as the calendar core reads the meeting flags: absent (null), "", "0", 0, 0.0,
    false and an empty array are false, anything else is true, so the string "N" is TRUE (php.net
    "Converting to boolean"; CCalendarRestService `'REINVITE' => (bool)$meeting['reinvite']`)."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return value not in ("", "0")
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, (list, dict)):
        return bool(value)
    return True


def as_int(value: Any) -> int | None:
    """An integer, or None when the value is not one (Bitrix would cast it to 0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def as_list(value: Any) -> list[Any]:
    """A JSON list, a PHP-style {"0": ..} object, or a single value, as a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return [value]
