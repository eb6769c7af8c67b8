"""Fixed values of the sandbox portal, overridable by create_app(config) and SANDBOX_BITRIX24_* env vars.

The rest of the app is configured against these defaults (BITRIX24_OAUTH_URL, the webhook URL, the
client id and secret), so change them in one place only.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

ENV_PREFIX = "SANDBOX_BITRIX24_"
APP_URL_ENV = "SANDBOX_APP_URL"
# The two regional OAuth servers, side by side on the emulator's host: region -> (path prefix, the real host
# it stands for). oauth.bitrix24.tech serves portals in Russia, oauth.bitrix.info the rest (b24phpsdk
# src/Core/Credentials/DefaultOAuthServerUrl.php "west"; b24pysdk bitrix_oauth_requester.py).
OAUTH_SERVERS = {"ru": ("/oauth-server-ru", "oauth.bitrix24.tech"), "world": ("/oauth-server", "oauth.bitrix.info")}


@dataclass(frozen=True)
class Settings:
    public_url: str = "http://127.0.0.1:8082"
    domain: str = "127.0.0.1:8082"
    protocol: int = 0
    app_url: str = "http://127.0.0.1:5000/"
    app_events_url: str = "http://127.0.0.1:5000/bitrix/events"  # follows app_url unless set (load_settings)
    lang: str = "ru"
    member_id: str = "5a0db0f5c3d54b3e8f2a1c0d9e8f7a6b"
    client_id: str = "local.sandbox.telemost"
    client_secret: str = "sandbox-secret"
    application_token: str = "sandbox-application-token"
    app_version: int = 1
    webhook_user_id: int = 1
    webhook_key: str = "sandboxwebhook"
    webhook_scope: str = "calendar,crm,im,user,user_basic"
    # What the app is registered with, the scopes it uses: placement (its chat, CRM card and employee card
    # entries), and for those bizproc (its automation rule), crm (the records' timelines), im (chat posts),
    # calendar, and user rather than user_basic: the employee card's placement needs it (widgets/placements.md),
    # and it gives the names and e-mails user_basic did (api-reference/user/index.md).
    token_scope: str = "bizproc,calendar,crm,im,placement,user"
    token_ttl: int = 3600
    refresh_ttl: int = 180 * 24 * 3600
    auth_code_ttl: int = 30
    bucket_size: int = 50
    drain_per_second: float = 2.0
    # The portal's region, so the OAuth server that issues its tokens: Russian by default, as most portals
    # using Telemost are, while the app's configured default is the other one (oauth.bitrix.info).
    oauth_region: str = "ru"
    # Where the OAuth servers are reached: the emulator's own host unless set. A renamed portal keeps them
    # (/_sandbox/rename): the OAuth servers are Bitrix24's, not the portal's.
    oauth_root: str = ""

    @property
    def oauth_domain(self) -> str:
        return OAUTH_SERVERS[self.oauth_region][1]

    def oauth_url(self, region: str) -> str:
        return (self.oauth_root or self.public_url) + OAUTH_SERVERS[region][0]

    @property
    def client_endpoint(self) -> str:
        return f"{self.public_url}/rest/"

    @property
    def server_endpoint(self) -> str:
        return f"{self.oauth_url(self.oauth_region)}/rest/"

    @property
    def install_url(self) -> str:
        return f"{self.app_url}install"

    @property
    def app_origin(self) -> str:
        """The origin the app's pages (and so the BX24 shim) run in: the only one the portal talks to."""
        return origin_of(self.app_url)

    @property
    def webhook_url(self) -> str:
        return f"{self.public_url}/rest/{self.webhook_user_id}/{self.webhook_key}/"


def load_settings(config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults < environment < config; domain and protocol follow public_url unless set themselves."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field in dataclasses.fields(Settings):
        env_name = APP_URL_ENV if field.name == "app_url" else ENV_PREFIX + field.name.upper()
        if environ.get(env_name, "").strip():  # empty means "not set", as in the app's .env
            values[field.name] = _coerce(field.type, environ[env_name].strip(), env_name)
    known = {field.name for field in dataclasses.fields(Settings)}
    values.update({key: value for key, value in (config or {}).items() if key in known})
    if "public_url" not in values and environ.get(ENV_PREFIX + "PORT", "").strip():
        # The port the app's settings give the emulator (SANDBOX_BITRIX24_PORT) is where it is reached.
        values["public_url"] = f"http://127.0.0.1:{environ[ENV_PREFIX + 'PORT']}"
    values["public_url"] = str(values.get("public_url", Settings.public_url)).rstrip("/")
    values.setdefault("app_events_url", f"{values.get('app_url', Settings.app_url)}bitrix/events")
    if "domain" not in values:
        parts = urlsplit(values["public_url"])
        values["domain"] = parts.netloc
        values.setdefault("protocol", 1 if parts.scheme == "https" else 0)
    if values.get("oauth_region", Settings.oauth_region) not in OAUTH_SERVERS:
        raise SystemExit(f"{ENV_PREFIX}OAUTH_REGION must be one of {', '.join(OAUTH_SERVERS)}")
    return Settings(**values)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _coerce(type_name: Any, raw: str, env_name: str) -> Any:
    try:
        if type_name in (int, "int"):
            return int(raw)
        if type_name in (float, "float"):
            return float(raw)
    except ValueError:
        raise SystemExit(f"{env_name} must be a number, got {raw!r}") from None
    return raw
