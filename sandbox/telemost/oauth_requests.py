"""Reading a GET|POST /oauth/authorize query and building the redirect back to the app.

The order of checks follows RFC 6749 §4.1.2.1: while the client or redirect_uri is in doubt the
server must not redirect (an open redirector), so those errors are a page for the person; once both
are trusted, every other error goes back to the app as ?error=…&state=….
"""
from __future__ import annotations

from typing import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .oauth import CLIENT_ID, REGISTERED_SCOPES, AuthorizeRequest

# The sandbox client's registered redirect URIs: any on the local machine, with any port and path.
LOCAL_REDIRECT_HOSTS = frozenset({"127.0.0.1", "localhost"})
PKCE_METHODS = ("plain", "S256")


class AuthorizePageError(Exception):
    """Answered with an HTML page 400 and never a redirect."""


class AuthorizeRedirectError(Exception):
    """An error the app hears about on its redirect_uri."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def read_authorize_request(args: Mapping[str, str]) -> AuthorizeRequest:
    if args.get("client_id") != CLIENT_ID:
        raise AuthorizePageError("Unknown client_id: no such application is registered.")
    redirect_uri = _trusted_redirect_uri(args.get("redirect_uri"))
    state = args.get("state")

    def refuse(error: str, description: str) -> AuthorizeRedirectError:
        return AuthorizeRedirectError(redirect_location(redirect_uri, state, error=error,
                                                        error_description=description))

    if args.get("response_type") != "code":
        # Yandex also has response_type=token (the implicit flow); the sandbox emulates the code flow only.
        raise refuse("unsupported_response_type", "response_type must be code.")
    requested = set(args.get("scope", "").split()) | set(args.get("optional_scope", "").split())
    if unknown := requested - REGISTERED_SCOPES:
        raise refuse("invalid_scope", f"Not registered for this application: {' '.join(sorted(unknown))}.")
    code_challenge = args.get("code_challenge") or None
    method = args.get("code_challenge_method") or "plain"  # RFC 7636 §4.3: plain when not given
    if code_challenge is not None and method not in PKCE_METHODS:
        raise refuse("invalid_request", "code_challenge_method must be plain or S256.")
    return AuthorizeRequest(
        redirect_uri=redirect_uri, state=state,
        # Without `scope` Yandex grants every right the app is registered with.
        scopes=frozenset(requested) if requested else REGISTERED_SCOPES,
        login_hint=args.get("login_hint") or None,
        code_challenge=code_challenge, code_challenge_method=method if code_challenge else None,
    )


def redirect_location(redirect_uri: str, state: str | None, **params: str) -> str:
    """redirect_uri with `params` and `state` added to whatever query it already has."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    if state is not None:
        query.append(("state", state))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _trusted_redirect_uri(value: str | None) -> str:
    # Yandex falls back to the app's registered Callback URL when redirect_uri is left out; the
    # sandbox client has no single one, so it is required here (strict).
    if not value:
        raise AuthorizePageError("redirect_uri is required.")
    not_registered = AuthorizePageError("redirect_uri is not registered for this application (the sandbox "
                                        "allows http(s)://127.0.0.1 or localhost, without a #fragment).")
    try:
        parts = urlsplit(value)
    except ValueError:  # a malformed [IPv6] host
        raise not_registered from None
    if parts.hostname not in LOCAL_REDIRECT_HOSTS or parts.scheme not in ("http", "https") or parts.fragment:
        raise not_registered
    return value
