"""The log of requests to portals' REST APIs and their answers, kept REST_LOG_DAYS.

Bitrix24 Market: "Solutions making requests to the Bitrix24 REST API from the server must keep logs of
API requests and responses for at least the last 3 days" (b24restdocs
market/preparing-to-publish/common-requirements.md). Rows live in the database rather than in files: every
process (web, workers) writes to the same place, a container restart keeps them, and beat's retention
removes them by age. The client hands over the request without its `auth` (shared/clients/bitrix24.py
RestCall), so no token is ever written; long bodies are cut.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import delete
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import SQLAlchemyError

from shared.clients.bitrix24 import RestCall
from shared.db import Database
from shared.models import BitrixRestCall, utcnow

log = logging.getLogger(__name__)
REST_LOG_DAYS = 3
MAX_KEPT_CHARS = 4000  # of a request or an answer: enough to see what was asked and why it failed


def _cut(text: str) -> str:
    return text if len(text) <= MAX_KEPT_CHARS else text[:MAX_KEPT_CHARS] + f"… ({len(text)} characters)"


class RestLog:
    """A Bitrix24Client recorder: one row per request. A log that cannot be written never fails the call."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def __call__(self, call: RestCall) -> None:
        try:
            with self.db.write() as session:
                session.add(
                    BitrixRestCall(
                        host=call.host[:255],
                        method=call.method[:100],
                        status=call.status,
                        milliseconds=round(call.seconds * 1000),
                        request=_cut(call.request),
                        response=_cut(call.response),
                    )
                )
        except SQLAlchemyError as error:
            log.warning("REST call %s to %s not logged: %s", call.method, call.host, error)


def forget_old(db: Database, days: int = REST_LOG_DAYS) -> int:
    """Removes what is older than `days`; answers how many rows went."""
    with db.write() as session:
        # A DELETE answers a CursorResult, which has the rowcount; Session.execute's stubs say Result.
        gone = cast(
            "CursorResult[Any]",
            session.execute(
                delete(BitrixRestCall).where(BitrixRestCall.at < utcnow() - timedelta(days=days))
            ),
        )
    return gone.rowcount or 0
