"""Bitrix24 posts events form-encoded with PHP bracket keys (auth[access_token]=…): read them as nested dicts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

KEY_PART = re.compile(r"\[([^\[\]]*)\]")
MAX_DEPTH = 5
NUMBER = re.compile(r"[0-9]{1,10}")


def number(value: str) -> int | None:
    """A form field's whole number (ts, expires_in, an id), or None when it is not one that fits the 32-bit
    columns it lands in. Not str.isdigit: '²' passes it and then breaks int(), as do 5,000 digits."""
    value = value.strip()
    return int(value) if NUMBER.fullmatch(value) and int(value) < 2**31 else None


def nested(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """{'auth[domain]': 'x'} -> {'auth': {'domain': 'x'}}; deeper or malformed keys are kept flat."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        parts = [head, *KEY_PART.findall("[" + rest)] if rest else [head]
        if (
            not head
            or len(parts) > MAX_DEPTH
            or (rest and "[" + rest != "".join(f"[{p}]" for p in parts[1:]))
        ):
            result[key] = value
            continue
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return result
