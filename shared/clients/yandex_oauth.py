"""Yandex OAuth (authorization-code flow with PKCE and refresh, and a Yandex 360 service app's token
exchange) and the account from login.yandex.ru.

PKCE (RFC 7636) as Yandex ID documents it (yandex.ru/dev/id/doc/ru/codes/code-url): code_challenge and
code_challenge_method on /authorize, code_verifier with the code on /token. A stolen code is then
worth nothing without the verifier, which never leaves the server.

A service app (yandex.ru/support/yandex-360/business/admin/ru/security-service-applications; Extended
and Optimal plans) gets any employee's token by e-mail, with no one signing in: RFC 8693 token
exchange. The answer carries no refresh token; a caller asks again when expires_in (an hour) is up.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlencode

import requests

from shared.clients.errors import PermanentError, TransientError, json_or_none, network_failure

SERVICE = "Yandex"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
SUBJECT_EMAIL = "urn:yandex:params:oauth:token-type:email"
# How to read the PermanentError.code of a refused exchange_for_employee. Yandex's own codes are
# unverified: RFC 8693 §2.2.2 says invalid_request for an unacceptable subject (what the sandbox
# answers), invalid_grant is the other common reading. The app sends every parameter, so neither
# can mean a malformed request of ours.
NOT_AN_EMPLOYEE_CODES = frozenset({"invalid_request", "invalid_grant"})
# The service app itself is refused: a wrong id or secret (invalid_client, 400 or 401), or an app
# the organisation does not list as a service app, e.g. after a move to the Basic plan
# (unauthorized_client). No e-mail will work until an administrator fixes it.
SERVICE_APP_REFUSED_CODES = frozenset({"invalid_client", "unauthorized_client"})


class YandexOAuth:
    def __init__(
        self,
        oauth_url: str,
        login_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self.oauth_url, self.login_url = oauth_url.rstrip("/"), login_url.rstrip("/")
        self.client_id, self.client_secret, self.redirect_uri = client_id, client_secret, redirect_uri
        self.timeout = (min(3.05, timeout), timeout)
        self.http = session or requests.Session()

    def authorize_url(self, state: str, code_verifier: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "state": state,
            "force_confirm": "yes",
            "code_challenge": code_challenge(code_verifier),
            "code_challenge_method": "S256",
        }
        return f"{self.oauth_url}/authorize?{urlencode(query)}"

    def exchange(self, code: str, code_verifier: str) -> dict:
        return self._token({"grant_type": "authorization_code", "code": code, "code_verifier": code_verifier})

    def refresh(self, refresh_token: str) -> dict:
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def exchange_for_employee(self, client_id: str, client_secret: str, email: str) -> dict:
        """The token answer ({access_token, expires_in, token_type, issued_token_type}) of the employee
        with this e-mail, asked for by the organisation's service app `client_id`. Refusals raise
        PermanentError; read its code with NOT_AN_EMPLOYEE_CODES and SERVICE_APP_REFUSED_CODES."""
        return self._token(
            {
                "grant_type": TOKEN_EXCHANGE_GRANT,
                "subject_token": email,
                "subject_token_type": SUBJECT_EMAIL,
                "client_id": client_id,
                "client_secret": client_secret,
            }
        )

    def info(self, access_token: str) -> dict:
        try:
            response = self.http.get(
                f"{self.login_url}/info",
                params={"format": "json"},
                timeout=self.timeout,
                headers={"Authorization": f"OAuth {access_token}"},
            )
        except requests.RequestException as exc:
            raise network_failure(SERVICE, exc, self.timeout[1]) from exc
        data = json_or_none(response)
        if response.status_code == 200 and isinstance(data, dict):
            return data
        raise _error(response, data)

    def _token(self, form: dict) -> dict:
        # The app's own credentials unless the form names another client (a service app).
        form = {"client_id": self.client_id, "client_secret": self.client_secret, **form}
        try:
            response = self.http.post(f"{self.oauth_url}/token", data=form, timeout=self.timeout)
        except requests.RequestException as exc:
            raise network_failure(SERVICE, exc, self.timeout[1]) from exc
        data = json_or_none(response)
        if response.status_code == 200 and isinstance(data, dict) and data.get("access_token"):
            return data
        raise _error(response, data)


def code_challenge(code_verifier: str) -> str:
    """S256: BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _error(response: requests.Response, data) -> TransientError | PermanentError:
    data = data if isinstance(data, dict) else {}
    code = data.get("error") if isinstance(data.get("error"), str) else None
    if response.status_code >= 500 or response.status_code == 429:
        return TransientError(
            SERVICE,
            f"Yandex is busy or unavailable ({response.status_code}); try again",
            code=code,
            status=response.status_code,
        )
    return PermanentError(
        SERVICE,
        f"Yandex refused ({code or response.status_code}): {data.get('error_description') or 'no details'}",
        code=code,
        status=response.status_code,
    )
