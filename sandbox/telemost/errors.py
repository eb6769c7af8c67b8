"""Telemost's error body: always the four keys error, description, message and details.

Codes seen in the official docs (reference/telemost-api.md §3) have their own constructors; the
rest are marked UNVERIFIED where they are defined.
"""
from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Response, jsonify

# (code, description, message) for answers that carry no more specific code. The real service's
# codes for these statuses are UNVERIFIED: they follow the "CamelCase phrase" style of the known ones.
_GENERIC: dict[int, tuple[str, str, str]] = {
    400: ("BadRequest", "Bad request.", "Некорректный запрос."),
    401: ("Unauthorized", "Unauthorized.", "Не авторизован."),
    403: ("Forbidden", "Forbidden.", "Доступ запрещён."),
    404: ("NotFound", "Resource not found.", "Не удалось найти запрошенный ресурс."),
    405: ("MethodNotAllowed", "Method not allowed.", "Метод не поддерживается."),
    409: ("Conflict", "Conflict.", "Конфликт при обработке запроса."),
    413: ("PayloadTooLarge", "Request body is too large.", "Слишком большой запрос."),
    429: ("TooManyRequests", "Too many requests.", "Слишком много запросов. Повторите позже."),
    500: ("InternalServerError", "Internal server error.", "Внутренняя ошибка сервера."),
    502: ("BadGateway", "Bad gateway.", "Сервис временно недоступен. Повторите позже."),
    503: ("ServiceUnavailable", "Service unavailable.", "Сервис временно недоступен. Повторите позже."),
    504: ("GatewayTimeout", "Gateway timeout.", "Сервис не ответил вовремя. Повторите позже."),
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


def generic_error(status: int, description: str | None = None) -> ApiError:
    if status in _GENERIC:
        code, default_description, message = _GENERIC[status]
    else:
        phrase = _phrase(status)
        code, default_description, message = phrase.title().replace(" ", "").replace("-", ""), f"{phrase}.", "Ошибка."
    return ApiError(status, code, description or default_description, message)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def bad_request(description: str, field: str | None = None) -> ApiError:
    # The code of the real validation error is UNVERIFIED; `details.field` names the culprit.
    return ApiError(400, "BadRequest", description, "Некорректный запрос.", {"field": field} if field else {})


def unauthorized(description: str = "Unauthorized.") -> ApiError:
    return ApiError(401, "Unauthorized", description, "Не авторизован.")


def insufficient_scope(scope: str) -> ApiError:
    # Documented only as "another code under ConferenceResponsesOf403": the name is UNVERIFIED.
    return ApiError(403, "InsufficientScope", f"The token lacks the scope {scope}.",
                    "У приложения нет прав на это действие.", {"scope": scope})


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
    return ApiError(404, "NoSuchUserPrincipalsFound", "Some users were not found.",
                    "Не удалось найти пользователей.", {"emails": ";".join(emails)})


def organizer_cannot_be_removed(email: str) -> ApiError:
    # The rule is documented [D4]; its status and code are UNVERIFIED.
    return ApiError(400, "OrganizerCannotBeRemoved", "The organizer cannot be removed from cohosts.",
                    "Нельзя удалить организатора встречи.", {"emails": email})


def method_not_allowed(allowed: str) -> ApiError:
    error = generic_error(405, "This route is not part of the documented Telemost API.")
    error.headers["Allow"] = allowed
    return error


# What a fault of a given status looks like: the code a client most plausibly meets with it.
_FAULT_ERRORS = {
    401: unauthorized,
    402: live_streams_need_payment,
    403: restricted_to_organizations,
    404: conference_not_found,
}


def fault_error(status: int, retry_after: int | None) -> ApiError:
    error = _FAULT_ERRORS[status]() if status in _FAULT_ERRORS else generic_error(status)
    if retry_after is not None:
        error.headers["Retry-After"] = str(retry_after)
    return error
