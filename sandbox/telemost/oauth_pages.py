"""The two HTML pages of the sandbox's oauth.yandex.ru: the consent page and the error page.

Every value is escaped: the query string (state, login_hint) comes from whoever built the link.
"""
from __future__ import annotations

from html import escape
from typing import Iterable

from flask import Response

from .oauth import CLIENT_ID
from .oauth_accounts import YandexAccount

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:3rem auto}}button{{display:block;width:100%;
margin:.4rem 0;padding:.6rem;font-size:1rem}}.refuse{{background:none;border:1px solid #999}}</style>
</head><body><h1>{title}</h1>{body}</body></html>"""


def consent_page(accounts: Iterable[YandexAccount], action: str, login_hint: str | None) -> Response:
    """One button per account; the form posts back to the same /authorize query.

    The account named by login_hint comes first, as Yandex pre-selects the hinted account.
    """
    hint = (login_hint or "").strip().lower()
    ordered = sorted(accounts, key=lambda account: hint not in (account.email, account.login))
    buttons = "".join(
        f'<button type="submit" name="account" value="{escape(account.email)}">'
        f"Sign in to Yandex as {escape(account.real_name)} ({escape(account.email)})</button>"
        for account in ordered)
    body = (f"<p>The application <b>{escape(CLIENT_ID)}</b> asks for access to your Yandex account "
            f"(Telemost conferences, e-mail, name).</p>"
            f'<form method="post" action="{escape(action)}">{buttons}'
            f'<button type="submit" class="refuse" name="refuse" value="1">Refuse</button></form>')
    return _html("Yandex ID (sandbox)", body, 200)


def error_page(message: str) -> Response:
    return _html("Yandex OAuth error (sandbox)", f"<p>{escape(message)}</p>", 400)


def _html(title: str, body: str, status: int) -> Response:
    return Response(_PAGE.format(title=escape(title), body=body), status=status, mimetype="text/html")
