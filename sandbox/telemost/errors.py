"""Telemost's error body: always the four keys error, description, message and details.

Only four codes are documented (the OpenAPI file api-specification.yaml and the cohosts pages,
reference/telemost-api.md §3): ApiRestrictedToOrganizations (403), PaymentRequiredToUseLiveStreams
(402), ConferenceNotFound (404) and NoSuchUserPrincipalsFound. Every other answer is, in the OpenAPI
file, the response "4XX UndocumentedError", whose codes it does not list; the emulator answers those
with the code "UndocumentedError". That code is INVENTED (it is the name of the OpenAPI response, not a
code Telemost is known to send): a client may rely on the status and nothing else. The descriptions,
messages and details of such answers are the sandbox's own too.
"""
from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Response, jsonify

UNDOCUMENTED = "UndocumentedError"  # INVENTED as a code: see above

# (description, message) of answers with nothing more specific to say; the texts are the sandbox's own,
# except 401's message "Не авторизован", which the cohosts pages show [D3][D9].
_GENERIC: dict[int, tuple[str, str]] = {
    400: ("Bad request.", "Некорректный запрос."),
    401: ("Unauthorized.", "Не авторизован."),
    403: ("Forbidden.", "Доступ запрещён."),
    404: ("Resource not found.", "Не удалось найти запрошенный ресурс."),
    405: ("Method not allowed.", "Метод не поддерживается."),
    409: ("Conflict.", "Конфликт при обработке запроса."),
    413: ("Request body is too large.", "Слишком большой запрос."),
    429: ("Too many requests.", "Слишком много запросов. Повторите позже."),
    500: ("Internal server error.", "Внутренняя ошибка сервера."),
    502: ("Bad gateway.", "Сервис временно недоступен. Повторите позже."),
    503: ("Service unavailable.", "Сервис временно недоступен. Повторите позже."),
    504: ("Gateway timeout.", "Сервис не ответил вовремя. Повторите позже."),
}


class ApiError(Exception):
    """An answer in Telemost's error shape; raised anywhere, rendered by the app's handler."""

    def __init__(self, status: int, code: str, description: str, message: str,
                 details: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description
        self.message = message
        self.details = details or {}
        self.headers = headers or {}

    def response(self) -> Response:
        body = {"error": self.code, "description": self.description,
                "message": self.message, "details": self.details}
        answer = jsonify(body)
        answer.status_code = self.status
        answer.headers.update(self.headers)
        return answer


def generic_error(status: int, description: str | None = None, details: dict[str, Any] | None = None) -> ApiError:
    """An answer of `status` without a documented code: UndocumentedError (INVENTED, see above)."""
    default_description, message = _GENERIC.get(status, (f"{_phrase(status)}.", "Ошибка."))
    return ApiError(status, UNDOCUMENTED, description or default_description, message, details)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def bad_request(description: str, field: str | None = None) -> ApiError:
    # `details.field`, naming the culprit, is the sandbox's own (INVENTED).
    return generic_error(400, description, {"field": field} if field else None)


def unauthorized(description: str = "Unauthorized.") -> ApiError:
    return generic_error(401, description)


def insufficient_scope(scope: str) -> ApiError:
    # "Another code under ConferenceResponsesOf403" at most [S1]: its name is not known, so UndocumentedError.
    return generic_error(403, f"The token lacks the scope {scope}.", {"scope": scope})


def not_the_organizer() -> ApiError:
    # Only the organiser changes a room (the Yandex 360 admin scripts for Telemost: "Изменение параметров
    # встречи выполняется от лица её организатора"). Whether Telemost answers another account 403
    # (ConferenceResponsesOf403, codes not visible) or 404 ConferenceNotFound is UNVERIFIED: the
    # emulator answers either (FOREIGN_ROOM_STATUS), and this is the 403.
    return generic_error(403, "Only the organizer of the conference can do this.")


def restricted_to_organizations() -> ApiError:
    return ApiError(403, "ApiRestrictedToOrganizations",
                    "API is available only to Yandex 360 for Business organizations.",
                    "API доступен только пользователям организаций Яндекс 360 для бизнеса.")


def live_streams_need_payment() -> ApiError:
    return ApiError(402, "PaymentRequiredToUseLiveStreams", "The tariff does not include live streams.",
                    "Трансляции недоступны на вашем тарифе.")


def conference_not_found() -> ApiError:
    return ApiError(404, "ConferenceNotFound", "Conference not found.", "Видео встреча не найдена.")


def no_such_users(emails: list[str]) -> ApiError:
    # The code and details.emails joined by ';' are documented [D13]; the status 404 comes from client code [C7][C11].
    return ApiError(404, "NoSuchUserPrincipalsFound", "Some users were not found.",
                    "Не удалось найти пользователей.", {"emails": ";".join(emails)})


def organizer_cannot_be_removed(email: str) -> ApiError:
    # The rule is documented [D4]; its status and code are not: 400 UndocumentedError.
    return generic_error(400, "The organizer cannot be removed from cohosts.", {"emails": email})


def method_not_allowed(allowed: str) -> ApiError:
    error = generic_error(405, "This route is not part of the documented Telemost API.")
    error.headers["Allow"] = allowed
    return error


# What a fault of a given status looks like: the documented code a client meets with it, if there is one.
_FAULT_ERRORS = {
    402: live_streams_need_payment,
    403: restricted_to_organizations,
    404: conference_not_found,
}


def fault_error(status: int, retry_after: int | None) -> ApiError:
    error = _FAULT_ERRORS[status]() if status in _FAULT_ERRORS else generic_error(status)
    if retry_after is not None:
        error.headers["Retry-After"] = str(retry_after)
    return error
