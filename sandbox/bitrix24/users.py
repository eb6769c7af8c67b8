"""Portal users and the user.* methods (reference §4 Users): ids are ints here, strings in REST output."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable
from zoneinfo import ZoneInfo

from .methods import Caller, ListPage, method, paginate
from .params import as_int, get_ci, is_yes

if TYPE_CHECKING:
    from .portal import Portal

USER_SCOPES = ("user", "user_basic", "user_brief")
REGISTERED = "2024-01-15T10:00:00+03:00"


@dataclass
class User:
    id: int
    name: str
    last_name: str
    email: str
    position: str
    time_zone: str = "Europe/Moscow"
    is_admin: bool = False
    active: bool = True
    gender: str = ""
    departments: list[int] = field(default_factory=lambda: [1])

    @property
    def full_name(self) -> str:
        return f"{self.name} {self.last_name}".strip()

    def as_state(self) -> dict[str, Any]:
        return asdict(self)


def seed_users() -> list[User]:
    """Several time zones on purpose, so time-zone handling is visible; user 7 is fired (inactive)."""
    return [
        User(1, "Ivan", "Petrov", "ivan.petrov@example.com", "CEO", is_admin=True, gender="M"),
        User(2, "Anna", "Smirnova", "anna.smirnova@example.com", "Project manager", gender="F"),
        User(3, "Sergey", "Ivanov", "sergey.ivanov@example.com", "Developer", "Asia/Yekaterinburg", gender="M"),
        User(4, "Olga", "Kuznetsova", "olga.kuznetsova@example.com", "Designer", "Europe/Kaliningrad", gender="F"),
        User(5, "Dmitry", "Sokolov", "dmitry.sokolov@example.com", "QA engineer", "Asia/Novosibirsk", gender="M"),
        User(6, "Maria", "Popova", "maria.popova@example.com", "Accountant", gender="F"),
        User(7, "Pavel", "Volkov", "pavel.volkov@example.com", "Sales manager", active=False, gender="M"),
    ]


def user_to_rest(user: User) -> dict[str, Any]:
    offset = datetime.now(ZoneInfo(user.time_zone)).utcoffset()
    return {
        "ID": str(user.id),
        "XML_ID": f"sandbox-{user.id}",
        "ACTIVE": user.active,
        "NAME": user.name,
        "LAST_NAME": user.last_name,
        "SECOND_NAME": "",
        "TITLE": "",
        "EMAIL": user.email,
        "LAST_LOGIN": REGISTERED,
        "DATE_REGISTER": REGISTERED,
        "TIME_ZONE": user.time_zone,
        "TIME_ZONE_OFFSET": str(int(offset.total_seconds())) if offset else "0",
        "IS_ONLINE": "N",
        "LAST_ACTIVITY_DATE": REGISTERED,
        "PERSONAL_GENDER": user.gender,
        "PERSONAL_BIRTHDAY": "",
        "WORK_POSITION": user.position,
        "WORK_PHONE": "",
        "UF_EMPLOYMENT_DATE": "",
        "UF_DEPARTMENT": list(user.departments),
        "USER_TYPE": "employee",
    }


# --- FILTER: keys may carry the prefixes of the docs (>= > <= < @ !@ % =% %= !% != ! =) ---

_PREFIX = re.compile(r"^(>=|<=|!@|!%|!=|=%|%=|>|<|@|%|!|=)?(.+)$")
_NOT_FILTER_KEYS = {"SORT", "ORDER", "START", "SELECT", "ADMIN_MODE", "IMAGE_RESIZE", "AUTH", "FILTER"}


def _field_value(user: User, name: str) -> Any:
    if name == "ACTIVE":
        return user.active
    if name == "NAME_SEARCH":
        return " ".join((user.name, user.last_name, user.position))
    return user_to_rest(user).get(name)


def _like(pattern: str, text: str) -> bool:
    regex = ".*".join(re.escape(part) for part in pattern.split("%"))
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL) is not None


def _compare(op: str, actual: Any, wanted: Any) -> bool:
    if isinstance(actual, bool):
        return actual == is_yes(wanted) if op in ("", "=") else actual != is_yes(wanted)
    if isinstance(actual, list):  # UF_DEPARTMENT: any element matches
        return any(_compare(op, item, wanted) for item in actual)
    if op in ("@", "!@"):
        members = wanted if isinstance(wanted, list) else str(wanted).split(",")
        found = str(actual).lower() in {str(item).strip().lower() for item in members}
        return found if op == "@" else not found
    if isinstance(wanted, list):
        return any(_compare(op, actual, item) for item in wanted)
    text, target = str(actual), str(wanted)
    if op in (">", ">=", "<", "<="):
        left, right = (as_int(text), as_int(target)) if as_int(text) is not None and as_int(target) is not None else (text, target)
        return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]
    if op in ("%", "!%"):
        return (target.lower() in text.lower()) == (op == "%")
    if op in ("=%", "%="):
        return _like(target, text)
    equal = text.lower() == target.lower()
    return equal if op in ("", "=") else not equal


def _matches(user: User, filters: dict[str, Any]) -> bool:
    for key, wanted in filters.items():
        parsed = _PREFIX.match(str(key).upper())
        if parsed is None:  # an empty key filters nothing
            continue
        op, name = parsed.groups()
        if not _compare(op or "", _field_value(user, name), wanted):
            return False
    return True


def _filter_of(params: dict[str, Any]) -> dict[str, Any]:
    """FILTER, or (as user.get also allows) the top-level fields themselves."""
    explicit = get_ci(params, "FILTER")
    if isinstance(explicit, dict):
        return explicit
    return {key: value for key, value in params.items() if str(key).upper() not in _NOT_FILTER_KEYS}


def _sorted(users: list[User], params: dict[str, Any]) -> list[User]:
    field_name = str(get_ci(params, "SORT") or "ID").upper()
    descending = str(get_ci(params, "ORDER") or "ASC").upper() == "DESC"

    def key(user: User) -> tuple[int, Any]:
        value = user.id if field_name == "ID" else _field_value(user, field_name)
        return (0, value) if isinstance(value, int) else (1, str(value or "").lower())

    return sorted(users, key=key, reverse=descending)


def _list(users: list[User], params: dict[str, Any], keep: Callable[[User], bool]) -> ListPage:
    rows = [user_to_rest(user) for user in _sorted([u for u in users if keep(u)], params)]
    return paginate(rows, get_ci(params, "START"))


# --- methods ---

def user_current(portal: "Portal", caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    return user_to_rest(caller.user)


def user_get(portal: "Portal", caller: Caller, params: dict[str, Any]) -> ListPage:
    filters = _filter_of(params)
    return _list(portal.users.all(), params, lambda user: _matches(user, filters))


def user_search(portal: "Portal", caller: Caller, params: dict[str, Any]) -> ListPage:
    """Dismissed users are found too, each with ACTIVE false: b24restdocs api-reference/user/user-search.md
    returns ACTIVE in every row and does not say search skips them (UNVERIFIED either way; the app drops them)."""
    filters = _filter_of(params)
    find = get_ci(filters, "FIND")
    if find is not None:  # FIND cannot be combined with other fields, so they are ignored
        words = str(find).lower().split()
        keep = lambda user: all(word in _search_text(user) for word in words)  # noqa: E731
    else:
        keep = lambda user: _matches(user, filters)  # noqa: E731
    return _list(portal.users.all(), params, keep)


def _search_text(user: User) -> str:
    return " ".join((user.name, user.last_name, user.position)).lower()


def user_admin(portal: "Portal", caller: Caller, params: dict[str, Any]) -> bool:
    return caller.user.is_admin


def profile(portal: "Portal", caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    user = caller.user
    rest = user_to_rest(user)
    return {"ID": rest["ID"], "ADMIN": user.is_admin, "NAME": user.name, "LAST_NAME": user.last_name,
            "PERSONAL_GENDER": user.gender, "TIME_ZONE": user.time_zone, "TIME_ZONE_OFFSET": int(rest["TIME_ZONE_OFFSET"])}


METHODS = {
    "user.current": method(user_current, *USER_SCOPES),
    "user.get": method(user_get, *USER_SCOPES),
    "user.search": method(user_search, *USER_SCOPES),
    "user.admin": method(user_admin),
    "profile": method(profile),
}


class UserDirectory:
    def __init__(self, users: list[User]) -> None:
        self._users = {user.id: user for user in users}

    def all(self) -> list[User]:
        return list(self._users.values())

    def get(self, user_id: Any) -> User | None:
        number = as_int(user_id)
        return self._users.get(number) if number is not None else None

    def add(self, **fields: Any) -> User:
        user = User(id=max(self._users, default=0) + 1, **fields)
        self._users[user.id] = user
        return user
