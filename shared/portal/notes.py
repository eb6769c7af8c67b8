"""What the app learns of an installed portal from trusted answers, kept on its row (portals).

Trusted means the OAuth server's (a refresh answer, app.info) or the portal's own REST answers: never a
redirect or a form posted by a browser, which anyone could write.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from shared.clients.bitrix24 import OAuthServers, web_host
from shared.db import Database
from shared.models import Portal, utcnow

log = logging.getLogger(__name__)


def same_rest_root(a: str, b: str) -> bool:
    """Whether two REST roots are one (scheme and host in any case, a trailing slash or not)."""
    left, right = urlsplit(a), urlsplit(b)
    return (left.scheme.lower(), left.netloc.lower(), left.path.rstrip("/")) == (
        right.scheme.lower(),
        right.netloc.lower(),
        right.path.rstrip("/"),
    )


class PortalNotes:
    """What the app learns of an installed portal: the OAuth server that issued its tokens, its new REST endpoint
    and domain after a rename (client_endpoint of a refresh answer, settings/oauth/auto-renewal.md, or of the
    OAuth server's app.info), that it was deleted (PORTAL_DELETED)."""

    def __init__(self, db: Database, portal_id: int) -> None:
        self.db, self.portal_id = db, portal_id

    def server(self, url: str | None) -> None:
        if url:
            self._change(oauth_server=url)

    def moved(self, rest_url: str) -> None:
        domain = web_host(rest_url)
        if domain is not None:
            self._change(client_endpoint=rest_url, domain=domain)

    def deleted(self) -> None:
        self._change(deleted_at=utcnow())

    def welcome_back(self) -> None:
        """The portal just answered as itself: a PORTAL_DELETED of before was lifted (an on-premise portal
        answers it while its public part is closed, _includes/system-errors.md)."""
        self._change(deleted_at=None)

    def _change(self, **values) -> None:
        with self.db.read() as session:  # most answers change nothing: no write then
            portal = session.get(Portal, self.portal_id)
            if portal is None or all(getattr(portal, name) == value for name, value in values.items()):
                return
        with self.db.write() as session:
            portal = session.get(Portal, self.portal_id)
            if portal is None:
                return
            for name, value in values.items():
                if getattr(portal, name) != value:
                    if name in ("client_endpoint", "oauth_server"):
                        log.info(
                            "portal %s: %s is now %s (was %s)",
                            portal.member_id,
                            name,
                            value,
                            getattr(portal, name),
                        )
                    setattr(portal, name, value)

    def heard_refresh(self, servers: OAuthServers, asked: str, answer: dict, member_id: str) -> None:
        """A refresh answer names the portal's server and REST endpoint (settings/oauth/auto-renewal.md)."""
        self.server(servers.known(answer.get("server_endpoint")) or asked)
        endpoint = answer.get("client_endpoint")
        if str(answer.get("member_id", "")) == member_id and isinstance(endpoint, str):
            self.moved(endpoint)
