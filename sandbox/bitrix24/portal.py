"""The emulated portal: all its state behind one lock, authentication, and the way a call reaches a method.

Under gunicorn the emulator is one process with many threads; every read or write of state happens
under `lock`. A batch does not hold it across its commands (each command takes it), so one slow batch
cannot stall the portal, just as a batch is not atomic on a real portal.
"""
from __future__ import annotations

import itertools
import threading
from collections import Counter
from typing import Any, Callable

from ..control import Faults, RequestLog
from . import batch, calendar_echoes, calendar_methods, chats, crm, integrations, notify, robots, users
from .calendar_events import COMPANY_OWNER, CalendarStore
from .errors import insufficient_scope, invalid_credentials, invalid_token, method_not_found, no_auth_found, wrong_auth_type
from .event_delivery import DeliveryLog
from .limits import LeakyBucket
from .methods import Caller, RestMethod
from .notify import NotificationStore
from .settings import Settings
from .tokens import TokenPair, TokenStore
from .users import UserDirectory, seed_users

REGISTRY: dict[str, RestMethod] = {
    **users.METHODS, **calendar_methods.METHODS, **notify.METHODS, **integrations.METHODS, **batch.METHODS,
    **chats.METHODS, **robots.METHODS, **crm.METHODS,
}
TUNABLES = ("token_ttl", "bucket_size", "drain_per_second")


def scopes_of(scope: str) -> frozenset[str]:
    return frozenset(part.strip() for part in scope.split(",") if part.strip())


class Portal:
    def __init__(self, settings: Settings, clock: Callable[[], float], faults: Faults, request_log: RequestLog) -> None:
        self.settings = settings
        self.installed_settings = settings  # what reset() restores after a rename (sandbox_routes /_sandbox/rename)
        self.clock = clock
        self.faults = faults
        self.request_log = request_log
        self.lock = threading.RLock()
        self._calendar_ids = itertools.count(1)
        self.reset()

    def now(self) -> float:
        return self.clock()

    def reset(self) -> None:
        with self.lock:
            self.settings = self.installed_settings
            self.former_domains: list[str] = []  # hosts that answer 302 to the new one after a rename
            self.deleted = False  # REST answers PORTAL_DELETED (rest_routes.py)
            self.config: dict[str, float] = {name: getattr(self.settings, name) for name in TUNABLES}
            self.users = UserDirectory(seed_users())
            self.tokens = TokenStore(self.clock)
            self.calendar = CalendarStore(self._calendar_ids)
            for user in self.users.all():
                self.calendar.add_section("user", user.id, user.full_name, user.id, self.now())
            self.calendar.add_section("company_calendar", COMPANY_OWNER, "Company calendar", 1, self.now())
            self.notifications = NotificationStore()
            self.chats = chats.ChatStore()
            self.crm = crm.CrmStore()
            self.robots = robots.RobotStore()
            self.event_handlers: list[integrations.EventHandler] = []
            self.placements: list[integrations.PlacementHandler] = []
            self.installed = False  # until an admin's installer calls BX24.installFinish() (reference §1.3)
            self.deliveries = DeliveryLog()
            if hasattr(self, "echoes"):  # the echoes of writes before the reset are never sent
                self.echoes.cancel()
            self.echoes = calendar_echoes.Echoes()
            self.bucket = LeakyBucket(int(self.config["bucket_size"]), self.config["drain_per_second"], self.clock)
            self.rejected: Counter[str] = Counter({"QUERY_LIMIT_EXCEEDED": 0})
            self.request_log.clear()

    # --- limits and configuration ---

    def admit(self) -> bool:
        """One HTTP request to /rest enters the leaky bucket; False when it overflows."""
        with self.lock:
            if self.bucket.try_add():
                return True
            self.rejected["QUERY_LIMIT_EXCEEDED"] += 1
            return False

    def configure(self, changes: dict[str, Any]) -> dict[str, float]:
        unknown = set(changes) - set(TUNABLES)
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(sorted(unknown))}")
        for name, value in changes.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a number > 0")
        if "bucket_size" in changes and not float(changes["bucket_size"]).is_integer():
            raise ValueError("bucket_size must be a whole number")
        with self.lock:
            self.config.update(changes)
            self.bucket.reconfigure(int(self.config["bucket_size"]), float(self.config["drain_per_second"]))
            return dict(self.config)

    # --- tokens and callers ---

    def issue_tokens(self, user_id: int, ttl: float | None = None, scope: str | None = None,
                     client_id: str | None = None) -> TokenPair:
        """client_id: another application on the portal (tests of what an app must not accept), else ours."""
        with self.lock:
            return self.tokens.issue(user_id, scope or self.settings.token_scope,
                                     ttl or self.config["token_ttl"], self.settings.refresh_ttl,
                                     client_id or self.settings.client_id,
                                     self.settings.oauth_region)  # issued by the portal's regional server

    def authenticate(self, params: dict[str, Any], webhook: tuple[str, str] | None) -> Caller:
        with self.lock:
            if webhook is not None:
                return self._webhook_caller(*webhook)
            token = params.get("auth")
            if not isinstance(token, str) or not token:
                raise no_auth_found()
            access = self.tokens.check_access(token)
            user = self.users.get(access.user_id)
            if user is None or not user.active:
                raise invalid_token()
            return Caller(user, "oauth", scopes_of(access.scope), access.client_id)

    def _webhook_caller(self, user_id: str, key: str) -> Caller:
        if (user_id, key) != (str(self.settings.webhook_user_id), self.settings.webhook_key):
            raise invalid_credentials()
        user = self.users.get(self.settings.webhook_user_id)
        if user is None:
            raise invalid_credentials()
        return Caller(user, "webhook", scopes_of(self.settings.webhook_scope), "")

    # --- calls ---

    def execute(self, caller: Caller, method_name: str, params: dict[str, Any]) -> Any:
        rest_method = REGISTRY.get(method_name)
        if rest_method is None:
            raise method_not_found()
        if rest_method.app_only and not caller.is_app:
            raise wrong_auth_type()
        if rest_method.scopes and not rest_method.scopes & caller.scopes:
            raise insufficient_scope()
        if not rest_method.atomic:
            return rest_method.handler(self, caller, params)
        with self.lock:
            return rest_method.handler(self, caller, params)

    # --- /_sandbox/state ---

    def state(self) -> dict[str, Any]:
        with self.lock:
            settings = self.settings
            return {
                "users": [user.as_state() for user in self.users.all()],
                "events": calendar_methods.calendar_state(self),
                "notifications": [n.as_state() for n in self.notifications.items],
                "repeated_notifications": self.notifications.repeats(),
                "requests": self.request_log.snapshot(),
                "rejected": dict(self.rejected),
                "config": {**self.config, "public_url": settings.public_url, "domain": settings.domain,
                           "member_id": settings.member_id, "client_id": settings.client_id,
                           "app_url": settings.app_url, "app_events_url": settings.app_events_url,
                           "webhook_url": settings.webhook_url,
                           "oauth_url": settings.oauth_url("world"),  # the app's configured one (shared/config.py)
                           "server_endpoint": settings.server_endpoint, "oauth_region": settings.oauth_region,
                           "former_domains": list(self.former_domains), "deleted": self.deleted},
                "bucket": {"level": round(self.bucket.level, 3), "capacity": self.bucket.capacity},
                "event_handlers": [binding.as_rest() for binding in self.event_handlers],
                "placements": [placement.as_rest() for placement in self.placements],
                "chats": self.chats.state(),
                "crm": self.crm.state(),
                "robots": self.robots.state(),
                "installed": self.installed,
                "deliveries": self.deliveries.snapshot(),
            }
