"""Who is asking, whichever way in (the app menu today; a placement or a robot next): the entry points of
web/ turn a verified outside request into one, and every conference query is scoped by it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    """Who is asking: a verified user of a portal. Every query is scoped by both."""

    portal: str
    user_id: int
    name: str
    is_admin: bool = False
    # The address the portal gave for them: whose Yandex 360 account a token exchange asks for.
    email: str | None = None
