"""Every Telemost, Yandex OAuth and Yandex ID route the app calls, as the official pages describe it.

Telemost: the OpenAPI file https://yastatic.net/s3/doc-binary/docs/dev/telemost/api-specification.yaml
(v1.0.2) and the pages generated from it under https://yandex.com/dev/telemost/doc/ru/ (each route names
its page). Yandex ID: https://yandex.ru/dev/id/doc/ru/. Paths are relative to each service's base:
https://cloud-api.yandex.net/v1/telemost-api, https://oauth.yandex.ru, https://login.yandex.ru.
"""
from __future__ import annotations

from .schema import Param, Route

TELEMOST_DOCS = "https://yandex.com/dev/telemost/doc/ru/"
ID_DOCS = "https://yandex.ru/dev/id/doc/ru/"

WAITING_ROOM_LEVELS = ("PUBLIC", "ORGANIZATION", "ADMINS")
# live_stream.access_level: PUBLIC | ORGANIZATION (UNKNOWN only appears in answers).
LIVE_STREAM = Param("object", fields={"access_level": Param("string", values=("PUBLIC", "ORGANIZATION")),
                                      "title": Param("string"), "description": Param("string")})
# "cohosts": [{"email": ...}], at most 30 (cohosts-add, cohosts-update pages).
COHOSTS = Param("array", items=Param("object", fields={"email": Param("email", required=True)}), max_items=30)
CONFERENCE_DATA = {
    "access_level": Param("string", values=("PUBLIC", "ORGANIZATION")),  # deprecated, ignored with waiting_room_level
    "waiting_room_level": Param("string", values=WAITING_ROOM_LEVELS),
    "live_stream": LIVE_STREAM,
    "cohosts": COHOSTS,
    "is_auto_summarization_enabled": Param("json_bool"),
}
TELEMOST = {"service": "telemost", "authorization": "OAuth"}  # "Authorization: OAuth <токен>" on every page

ROUTES = (
    # requestBody `required: true`, schema ConferenceData; "Content-Type: application/json".
    Route(http_method="POST", path="/conferences", source=TELEMOST_DOCS + "conferences/conference-create.md",
          body=CONFERENCE_DATA, body_required=True, transport="json", **TELEMOST),
    Route(http_method="GET", path="/conferences/{id}", source=TELEMOST_DOCS + "conferences/conference-read.md",
          **TELEMOST),
    # ConferencePatchData (v1.0.2): "Передавать нужно только те поля, которые требуется изменить".
    Route(http_method="PATCH", path="/conferences/{id}", source=TELEMOST_DOCS + "conferences/conference-update.md",
          body={**CONFERENCE_DATA, "should_create_public_chat_if_not_exists": Param("json_bool")},
          body_required=True, transport="json", **TELEMOST),
    Route(http_method="GET", path="/conferences/{id}/cohosts", source=TELEMOST_DOCS + "cohosts/cohosts-read",
          query={"offset": Param("integer", minimum=0), "limit": Param("integer", minimum=1, maximum=256)},
          **TELEMOST),
    Route(http_method="PUT", path="/conferences/{id}/cohosts", source=TELEMOST_DOCS + "cohosts/cohosts-update",
          body={"cohosts": Param("array", required=True, items=COHOSTS.items, max_items=30)},
          body_required=True, transport="json", **TELEMOST),
    Route(http_method="PATCH", path="/conferences/{id}/cohosts", source=TELEMOST_DOCS + "cohosts/cohosts-add",
          body={"cohosts": Param("array", required=True, items=COHOSTS.items, max_items=30)},
          body_required=True, transport="json", **TELEMOST),
    # "?cohost_emails=a@x,b@y": comma-separated, at most 30.
    Route(http_method="DELETE", path="/conferences/{id}/cohosts", source=TELEMOST_DOCS + "cohosts/cohosts-del",
          query={"cohost_emails": Param("csv_emails", required=True, max_items=30)}, **TELEMOST),

    # POST /token, application/x-www-form-urlencoded: "Request parameters must be passed in the request body
    # and must be URL-encoded". The code grant (codes/code-url) and the refresh grant (tokens/refresh-client).
    Route("yandex-oauth", "POST", "/token", ID_DOCS + "codes/code-url and " + ID_DOCS + "tokens/refresh-client",
          body={"grant_type": Param("string", required=True, values=("authorization_code", "refresh_token")),
                "code": Param("string", required_unless=("grant_type", "refresh_token")),
                "refresh_token": Param("string", required_unless=("grant_type", "authorization_code")),
                "client_id": Param("string"), "client_secret": Param("string"),
                "device_id": Param("string"), "device_name": Param("string"), "code_verifier": Param("string")},
          body_required=True, transport="form"),
    # What the app sends the browser to (codes/code-url, "Запрос кода подтверждения").
    Route("yandex-oauth", "GET", "/authorize", ID_DOCS + "codes/code-url", query={
        "response_type": Param("string", required=True, values=("code",)),
        "client_id": Param("string", required=True),
        "device_id": Param("string"), "device_name": Param("string"), "redirect_uri": Param("string"),
        "login_hint": Param("string"), "scope": Param("string"), "optional_scope": Param("string"),
        "force_confirm": Param("string", values=("yes", "true", "1")), "state": Param("string"),
        "code_challenge": Param("string"), "code_challenge_method": Param("string", values=("S256", "plain"))}),
    # GET https://login.yandex.ru/info?[format=json|xml|jwt][&jwt_secret=...][&with_openid_identity=1|yes|true],
    # "Authorization: OAuth <OAuth-токен>" (the recommended way).
    Route("yandex-login", "GET", "/info", ID_DOCS + "user-information", authorization="OAuth", query={
        "format": Param("string", values=("json", "xml", "jwt")), "jwt_secret": Param("string"),
        "with_openid_identity": Param("string", values=("1", "yes", "true"))}),
)
