"""Yandex OAuth (authorization-code flow with PKCE and refresh) and the account from login.yandex.ru.

PKCE (RFC 7636) as Yandex ID documents it (yandex.ru/dev/id/doc/ru/codes/code-url): code_challenge and
code_challenge_method on /authorize, code_verifier with the code on /token. A stolen code is then
worth nothing without the verifier, which never leaves the server.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlencode

import requests

from shared.clients.errors import PermanentError, TransientError, json_or_none, network_failure

SERVICE = "Yandex"


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
        form = {**form, "client_id": self.client_id, "client_secret": self.client_secret}
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
