"""Bitrix24 commands sent together: `batch` requests of up to 50 commands, each one unit of the portal's
rate limit (DESIGN §4 rule 7). Used by the pipeline's Bitrix24 lane, the reminders and the calendar
read-back."""

from __future__ import annotations

import re
from typing import Any

from shared.clients.bitrix24 import MAX_BATCH_COMMANDS, Bitrix24Client
from shared.clients.errors import OutsideServiceError, PermanentError

Commands = dict[str, tuple[str, dict]]
SEPARATOR = "__"  # between a step's name and its own key: step names never hold two underscores in a row
_REFERENCE = re.compile(r"\$(result|error)\[([^\]]+)\]")


def run_batches(
    bitrix: Bitrix24Client, commands: Commands
) -> tuple[dict[str, Any], dict[str, OutsideServiceError]]:
    """Runs commands in batches of 50; answers (results, errors) by key. A failed request fails its keys."""
    return run_chunks(bitrix, packed([commands]))


def packed(groups: list[Commands]) -> list[Commands]:
    """Groups of commands (each conference's) in as few batches as hold them whole, in order: a group's
    $result references reach only its own batch, so a group is split only when it alone holds more than
    a batch does (as a lone conference's would be)."""
    chunks: list[Commands] = []
    for group in groups:
        if chunks and len(chunks[-1]) + len(group) <= MAX_BATCH_COMMANDS:
            chunks[-1].update(group)
            continue
        keys = list(group)
        chunks += [
            {key: group[key] for key in keys[start : start + MAX_BATCH_COMMANDS]}
            for start in range(0, len(keys), MAX_BATCH_COMMANDS)
        ]
    return chunks


def run_chunks(
    bitrix: Bitrix24Client, chunks: list[Commands]
) -> tuple[dict[str, Any], dict[str, OutsideServiceError]]:
    """Runs each chunk (at most 50 commands) as one batch request; answers (results, errors) by key."""
    results: dict[str, Any] = {}
    errors: dict[str, OutsideServiceError] = {}
    for chunk in chunks:
        try:
            outcome = bitrix.batch(chunk)
        except OutsideServiceError as error:
            errors.update(dict.fromkeys(chunk, error))
            continue
        results.update(outcome.results)
        errors.update(outcome.errors)
        errors.update(
            {
                key: PermanentError("Bitrix24", f"Bitrix24 gave no answer for {key}")
                for key in chunk
                if key not in outcome.results and key not in outcome.errors
            }
        )
    return results, errors


def namespaced(owner: str, commands: Commands) -> Commands:
    """One owner's commands under keys of their own ("calendar_event__event"), with the $result[key] and
    $error[key] references among them renamed to match, so that several owners share one batch."""
    own = set(commands)

    def rename(value: Any) -> Any:
        if isinstance(value, str):
            return _REFERENCE.sub(
                lambda m: f"${m[1]}[{owner}{SEPARATOR}{m[2]}]" if m[2] in own else m[0], value
            )
        if isinstance(value, dict):
            return {k: rename(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rename(v) for v in value]
        return value

    return {
        f"{owner}{SEPARATOR}{key}": (method, rename(params)) for key, (method, params) in commands.items()
    }


def slice_of(owner: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers to one owner's commands, under its own keys again."""
    prefix = owner + SEPARATOR
    return {key[len(prefix) :]: value for key, value in answers.items() if key.startswith(prefix)}
