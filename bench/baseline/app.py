"""The synchronous baseline: the create request served the way the original README describes it.

gunicorn (4 workers x 2 threads), and inside the request: Telemost create, calendar.event.add, then one
im.notify.system.add per invitee, then the row is saved and the request answers. It reuses the app's
validation (shared.schemas), clients (shared/clients, without the rate limiter) and message content
(shared/pipeline/bitrix_text), so that only the design differs from the queued app. No auth check:
that only favours the baseline.

Settings (environment): BASELINE_TELEMOST_URL, BASELINE_TELEMOST_TOKEN, BASELINE_BITRIX_REST_URL,
BASELINE_BITRIX_TOKEN (a portal user's access token), BASELINE_DATABASE_URL.
"""

from __future__ import annotations

import os
import uuid

import requests
from flask import Flask, jsonify, request
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from shared.clients.bitrix24 import Bitrix24Client
from shared.clients.errors import OutsideServiceError
from shared.clients.telemost import TelemostClient
from shared.db import Database
from shared.models import Base, Conference, Step, StepState
from shared.pipeline import bitrix_text, registry
from shared.pipeline.steps.calendar_event import calendar_event
from shared.schemas import ConferenceIn

OWNER_ID, OWNER_NAME, PORTAL = 2, "Anna Smirnova", "baseline"


def create_app() -> Flask:
    app = Flask(__name__)
    db = Database(os.environ["BASELINE_DATABASE_URL"])
    try:
        Base.metadata.create_all(db.engine)
    except OperationalError:  # another gunicorn worker made the tables at the same moment
        pass
    http = requests.Session()
    http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=16))
    telemost = TelemostClient(
        os.environ["BASELINE_TELEMOST_URL"], os.environ["BASELINE_TELEMOST_TOKEN"], session=http
    )
    bitrix = Bitrix24Client(
        os.environ["BASELINE_BITRIX_REST_URL"], auth=os.environ["BASELINE_BITRIX_TOKEN"], session=http
    )

    @app.get("/health")
    def health():
        return {"status": "healthy"}

    @app.post("/api/conferences")
    def create():
        try:
            data = ConferenceIn.model_validate(request.get_json(force=True))
        except (ValidationError, ValueError) as exc:
            return jsonify({"error": {"code": "invalid", "message": str(exc)[:500]}}), 422
        conference = Conference(
            public_id=uuid.uuid4().hex,
            portal=PORTAL,
            owner_id=OWNER_ID,
            owner_name=OWNER_NAME,
            type=data.type,
            name=data.name,
            description=data.description,
            start_at=data.start_at,
            duration_minutes=data.duration_minutes,
            timezone=data.timezone,
            waiting_room_level=data.waiting_room_level,
            live_stream=data.live_stream.model_dump() if data.live_stream else None,
            cohosts=list(data.cohosts),
            invitees=list(data.invitees),
            create_calendar_event=data.create_calendar_event,
            invite_users=data.invite_users,
            status="ready",
            applied={},
        )
        try:
            room = telemost.create_room(
                waiting_room_level=data.waiting_room_level,
                cohosts=list(data.cohosts),
                live_stream=conference.live_stream,
            )
            conference.telemost_id, conference.join_url, conference.watch_url = (
                room.id,
                room.join_url,
                room.watch_url,
            )
            if data.create_calendar_event and data.start_at is not None:
                conference.calendar_event_id = int(
                    bitrix.result("calendar.event.add", calendar_event(conference))
                )
            if data.invite_users:
                for user_id in data.invitees:
                    bitrix.result("im.notify.system.add", bitrix_text.invitation(conference, user_id, None))
        except OutsideServiceError as exc:
            return jsonify({"error": {"code": "outside_service", "message": exc.message}}), 502
        conference.steps = [
            Step(name=step.name, state=StepState.DONE, attempts=1, attempts_at_retry=0)
            for step in registry.steps()
        ]
        with db.write() as session:
            session.add(conference)
        return jsonify(
            {
                "id": conference.id,
                "status": "ready",
                "join_url": conference.join_url,
                "calendar_event_id": conference.calendar_event_id,
            }
        ), 201

    return app
