"""Unit tests of who a launch belongs to (shared/portal/identity.py): no stack, an SQLite file, a fake HTTP.

The fake stands for requests.Session, the seam Identity hands to both the OAuth servers (GET
{server}/rest/app.info/) and the portal's REST client (POST {rest_url}batch.json), so every decision
identity makes is exercised through the real clients, with answers written by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from shared.clients.errors import TransientError
from shared.config import load_settings
from shared.db import Database
from shared.models import Base, Portal
from shared.portal.identity import EXPIRED, Identity, Launch, NotVouched

CLIENT_ID = "local.telemost.1"
TECH = "https://oauth.bitrix24.tech"  # the regional servers the settings know by default
INFO = "https://oauth.bitrix.info"  # ... and the configured one (BITRIX24_OAUTH_URL default)
MEMBER = "member-acme"
DOMAIN = "acme.bitrix24.ru"
ENDPOINT = "https://acme.bitrix24.ru/rest/"
HOOK_DOMAIN = "hooked.bitrix24.ru"
BASE = {"SECRET_KEY": "a-secret-key-long-enough", "SANDBOX": "off", "YANDEX_OAUTH_TOKEN": "y0_token"}


class FakeResponse:
    def __init__(self, status: int, data) -> None:
        self.status_code, self._data = status, data
        self.headers: dict = {}
        self.reason = "Fake"
        self.text = "" if data is None else repr(data)

    def json(self):
        if self._data is None:
            raise ValueError("no JSON")
        return self._data


REFUSED = FakeResponse(401, {"error": "invalid_token", "error_description": "unknown token"})


class FakeHttp:
    """Answers app.info per OAuth server and batch per REST root; anything not set up is refused."""

    def __init__(self) -> None:
        self.oauth: dict[str, object] = {}
        self.portal: dict[str, object] = {}
        self.calls: list[tuple[str, str]] = []

    def _answer(self, answer):
        if isinstance(answer, Exception):
            raise answer
        return answer

    def get(self, url, params=None, **kwargs):
        self.calls.append(("GET", url))
        return self._answer(self.oauth.get(url.split("/rest/app.info/")[0], REFUSED))

    def post(self, url, json=None, **kwargs):
        self.calls.append(("POST", url))
        self.last_body = json
        return self._answer(self.portal.get(url[: -len("batch.json")], REFUSED))

    def asked(self, method: str) -> list[str]:
        return [url for verb, url in self.calls if verb == method]


def app_info(member_id=MEMBER, domain=DOMAIN, client_id=CLIENT_ID, endpoint=ENDPOINT) -> FakeResponse:
    install = {"member_id": member_id, "domain": domain, "client_endpoint": endpoint}
    return FakeResponse(200, {"result": {"client_id": client_id, "install": install}})


def batch(user=None, admin=True, app=None) -> FakeResponse:
    results = {"user": user if user is not None else {
        "ID": "7", "NAME": "Anna", "LAST_NAME": "Petrova", "EMAIL": "anna@acme.ru"}, "admin": admin}
    if app is not None:
        results["app"] = app
    return FakeResponse(200, {"result": {"result": results, "result_error": []}})


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'identity.db'}")
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def http():
    return FakeHttp()


def oauth_mode(**env):
    return load_settings(
        {**BASE, "BITRIX24_CLIENT_ID": CLIENT_ID, "BITRIX24_CLIENT_SECRET": "secret", **env}, env_file=None
    )


def webhook_mode(**env):
    return load_settings({**BASE, "BITRIX24_WEBHOOK_URL": f"https://{HOOK_DOMAIN}/rest/1/hook/", **env},
                         env_file=None)


def install(db, **fields) -> int:
    values = {"member_id": MEMBER, "domain": DOMAIN, "client_endpoint": ENDPOINT, "install_generation": 3,
              "oauth_server": TECH, **fields}
    with db.write() as session:
        row = Portal(**values)
        session.add(row)
        session.flush()
        return row.id


def stored(db, portal_id: int) -> Portal:
    with db.read() as session:
        return session.get(Portal, portal_id)


def launch(**fields) -> Launch:
    return Launch(**{"auth_id": "auth-1", "domain": DOMAIN, "member_id": MEMBER, **fields})


# -- which portal a launch belongs to ------------------------------------------------------------------


def test_an_installed_portal_vouched_by_its_oauth_server_is_the_portal_the_app_stored(db, http):
    portal_id = install(db)
    http.oauth[TECH] = app_info()
    http.portal[ENDPOINT] = batch()

    user = Identity(oauth_mode(), db, http).verify(launch(domain=" ACME.bitrix24.ru "))

    assert (user.id, user.name, user.email, user.is_admin) == (7, "Anna Petrova", "anna@acme.ru", True)
    access = user.portal
    assert access.key == MEMBER
    assert access.portal_id == portal_id
    assert access.install_generation == 3
    assert (access.domain, access.rest_url, access.secure) == (DOMAIN, ENDPOINT, True)
    assert access.oauth_server == TECH
    assert access.marked_deleted is False
    # user.current was asked of the stored endpoint, on the launch's own token
    assert http.asked("POST") == [ENDPOINT + "batch.json"]
    assert http.last_body["auth"] == "auth-1"


@pytest.mark.parametrize(
    "row, member_id",
    [({}, "member-stranger"), ({"installed": False}, MEMBER)],
    ids=["unknown-member-id", "uninstalled"],
)
def test_a_portal_the_app_is_not_installed_on_is_not_vouched_and_nothing_is_asked(db, http, row, member_id):
    install(db, **row)
    http.oauth[TECH] = app_info()
    http.portal[ENDPOINT] = batch()
    with pytest.raises(NotVouched, match="not installed on that portal"):
        Identity(oauth_mode(), db, http).verify(launch(member_id=member_id))
    assert http.calls == []


def test_without_app_credentials_the_configured_webhook_portal_is_keyed_by_its_domain(db, http):
    http.portal[f"https://{HOOK_DOMAIN}/rest/"] = batch(admin=False)

    user = Identity(webhook_mode(), db, http).verify(launch(domain=HOOK_DOMAIN, member_id="anything"))

    access = user.portal
    assert access.key == HOOK_DOMAIN  # nothing vouches for the member_id: it does not key the data
    assert access.portal_id is None and access.install_generation == 0
    assert access.rest_url == f"https://{HOOK_DOMAIN}/rest/"
    assert user.is_admin is False
    assert http.asked("GET") == []  # no OAuth server asked in webhook mode
    assert set(http.last_body["cmd"]) == {"user", "admin"}  # no app.info without BITRIX24_APP_CODE


def test_with_app_credentials_the_webhook_portal_is_keyed_by_the_member_id_the_oauth_server_vouched(db, http):
    http.oauth[INFO] = app_info(member_id="member-hooked", domain=HOOK_DOMAIN)
    http.portal[f"https://{HOOK_DOMAIN}/rest/"] = batch()
    settings = oauth_mode(BITRIX24_WEBHOOK_URL=f"https://{HOOK_DOMAIN}/rest/1/hook/")

    user = Identity(settings, db, http).verify(launch(domain=HOOK_DOMAIN, member_id="member-hooked"))

    assert user.portal.key == "member-hooked"
    assert user.portal.portal_id is None


def test_in_webhook_mode_an_installed_member_id_posted_with_another_domain_is_not_vouched(db, http):
    install(db)
    http.portal[ENDPOINT] = batch()
    with pytest.raises(NotVouched, match="does not match the one the app is installed on"):
        Identity(webhook_mode(), db, http).verify(launch(domain="evil.bitrix24.ru"))
    assert http.calls == []


# -- the OAuth server's word on the token --------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, message",
    [
        (app_info(client_id="local.someone.else"), "another application"),
        (app_info(member_id="member-other"), "another portal"),
        (app_info(domain="other.bitrix24.ru"), "another portal"),
        (FakeResponse(200, {"result": {"client_id": CLIENT_ID, "install": "not a map"}}), "another portal"),
    ],
    ids=["other-application", "other-member-id", "other-domain", "no-install"],
)
def test_a_token_app_info_does_not_tie_to_our_application_and_this_portal_is_not_vouched(
    db, http, answer, message
):
    install(db)
    http.oauth[TECH] = answer
    http.portal[ENDPOINT] = batch()
    with pytest.raises(NotVouched, match=message):
        Identity(oauth_mode(), db, http).verify(launch())
    assert http.asked("POST") == []  # the portal is never asked with a token the OAuth server disowned


def test_a_token_no_oauth_server_knows_is_not_vouched_and_every_server_was_asked(db, http):
    install(db)
    http.portal[ENDPOINT] = batch()
    with pytest.raises(NotVouched, match=r"OAuth server did not accept the authorisation \(invalid_token\)"):
        Identity(oauth_mode(), db, http).verify(launch())
    assert sorted(http.asked("GET")) == sorted(f"{s}/rest/app.info/" for s in (TECH, INFO))


def test_the_launch_server_endpoint_is_asked_first_only_when_it_is_a_known_server(db, http):
    portal_id = install(db, oauth_server=None)
    http.oauth[TECH] = app_info()
    http.portal[ENDPOINT] = batch()
    identity = Identity(oauth_mode(), db, http)

    first = identity.verify(launch(server_endpoint="https://oauth.bitrix24.tech/rest/"))
    assert http.asked("GET") == [f"{TECH}/rest/app.info/"]
    assert first.portal.oauth_server == TECH  # the server that vouched, kept on the row too
    assert stored(db, portal_id).oauth_server == TECH

    http.calls.clear()
    identity.verify(launch(server_endpoint="https://oauth.evil.example/rest/"))
    # the unknown one is never asked: the recorded server (just noted: TECH) comes first
    assert http.asked("GET") == [f"{TECH}/rest/app.info/"]


def test_an_expired_token_is_not_vouched_with_the_renew_message(db, http):
    install(db)
    http.oauth[TECH] = FakeResponse(401, {"error": "expired_token", "error_description": "expired"})
    with pytest.raises(NotVouched) as error:
        Identity(oauth_mode(), db, http).verify(launch())
    assert str(error.value) == EXPIRED
    assert http.asked("GET") == [f"{TECH}/rest/app.info/"]  # not asked of the other servers


@pytest.mark.parametrize(
    "oauth, portal",
    [
        (FakeResponse(503, None), batch()),  # the portal's own server is down, the other one refuses
        (app_info(), requests.ConnectionError("refused")),  # vouched, but the portal cannot be reached
        (app_info(), FakeResponse(200, {"error": "QUERY_LIMIT_EXCEEDED"})),  # the portal is busy
    ],
    ids=["oauth-server-down", "portal-unreachable", "portal-busy"],
)
def test_a_server_that_cannot_answer_now_surfaces_as_transient_error_not_a_refusal(db, http, oauth, portal):
    install(db)
    http.oauth[TECH] = oauth
    http.portal[ENDPOINT] = portal
    with pytest.raises(TransientError):
        Identity(oauth_mode(), db, http).verify(launch())


# -- what the portal answers ---------------------------------------------------------------------------


@pytest.mark.parametrize("user", [{"ID": "", "NAME": "Anna"}, {"ID": "7x"}, ["7"]], ids=["empty", "nondigit", "list"])
def test_a_portal_answer_without_a_numeric_user_id_is_not_vouched(db, http, user):
    install(db)
    http.oauth[TECH] = app_info()
    http.portal[ENDPOINT] = FakeResponse(200, {"result": {"result": {"user": user}, "result_error": []}})
    with pytest.raises(NotVouched, match="did not say who the user is"):
        Identity(oauth_mode(), db, http).verify(launch())


def test_a_nameless_user_is_named_by_id_and_an_empty_email_is_none_and_only_true_is_admin(db, http):
    install(db)
    http.oauth[TECH] = app_info()
    http.portal[ENDPOINT] = batch(user={"ID": "42", "NAME": "", "EMAIL": ""}, admin="Y")
    user = Identity(oauth_mode(), db, http).verify(launch())
    assert (user.id, user.name, user.email, user.is_admin) == (42, "User 42", None, False)


@pytest.mark.parametrize("code, vouched", [("telemost", True), ("other.app", False), (None, False)])
def test_in_webhook_mode_with_an_app_code_the_portal_app_info_must_name_our_application(db, http, code, vouched):
    app = {"CODE": code} if code else []
    http.portal[f"https://{HOOK_DOMAIN}/rest/"] = batch(app=app)
    identity = Identity(webhook_mode(BITRIX24_APP_CODE="telemost"), db, http)
    if vouched:
        assert identity.verify(launch(domain=HOOK_DOMAIN)).id == 7
    else:
        with pytest.raises(NotVouched, match="another application"):
            identity.verify(launch(domain=HOOK_DOMAIN))
    assert http.last_body["cmd"]["app"].startswith("app.info")  # asked in the same batch


# -- what a vouched launch changes on the portal's row -------------------------------------------------


def test_a_renamed_portal_follows_the_domain_and_endpoint_its_oauth_server_names(db, http):
    portal_id = install(db)
    new_endpoint = "https://renamed.bitrix24.ru/rest/"
    http.oauth[INFO] = app_info(domain="renamed.bitrix24.ru", endpoint=new_endpoint)
    http.portal[new_endpoint] = batch()

    user = Identity(oauth_mode(), db, http).verify(launch(domain="renamed.bitrix24.ru"))

    assert (user.portal.domain, user.portal.rest_url, user.portal.oauth_server) == (
        "renamed.bitrix24.ru", new_endpoint, INFO)
    assert user.portal.key == MEMBER and user.portal.portal_id == portal_id
    row = stored(db, portal_id)
    assert (row.domain, row.client_endpoint, row.oauth_server) == ("renamed.bitrix24.ru", new_endpoint, INFO)
    assert http.asked("POST") == [new_endpoint + "batch.json"]  # never the old endpoint


def test_a_new_domain_whose_vouched_endpoint_is_elsewhere_is_not_vouched_and_the_row_is_kept(db, http):
    portal_id = install(db)
    http.oauth[TECH] = app_info(domain="renamed.bitrix24.ru", endpoint="https://evil.example/rest/")
    http.portal["https://evil.example/rest/"] = batch()
    with pytest.raises(NotVouched, match="does not match the one the app is installed on"):
        Identity(oauth_mode(), db, http).verify(launch(domain="renamed.bitrix24.ru"))
    row = stored(db, portal_id)
    assert (row.domain, row.client_endpoint) == (DOMAIN, ENDPOINT)
    assert http.asked("POST") == []


def test_a_portal_marked_deleted_that_answers_a_vouched_launch_is_welcomed_back(db, http):
    portal_id = install(db, deleted_at=datetime(2026, 1, 1, tzinfo=UTC))
    http.oauth[TECH] = app_info()
    http.portal[ENDPOINT] = batch()

    user = Identity(oauth_mode(), db, http).verify(launch())

    assert user.portal.marked_deleted is True  # as it was known when the launch came
    assert stored(db, portal_id).deleted_at is None


def test_a_portal_marked_deleted_stays_marked_when_the_launch_is_not_vouched(db, http):
    when = datetime(2026, 1, 1, tzinfo=UTC)
    portal_id = install(db, deleted_at=when)
    http.oauth[TECH] = app_info()
    http.portal[ENDPOINT] = FakeResponse(200, {"error": "PORTAL_DELETED", "error_description": "gone"})
    with pytest.raises(NotVouched, match=r"The portal did not accept the authorisation \(PORTAL_DELETED\)"):
        Identity(oauth_mode(), db, http).verify(launch())
    assert stored(db, portal_id).deleted_at == when


def test_a_user_current_the_portal_could_not_answer_inside_the_batch_is_transient_not_a_refusal(db, http):
    """batch answers each failed command apart from the others, in result_error under its key (b24restdocs
    settings/how-to-call-rest-api/batch.md, "Error Handling"); QUERY_LIMIT_EXCEEDED is the full bucket
    (reference/bitrix24-rest.md §3): the launch is asked again, nobody is refused."""
    install(db)
    http.oauth[TECH] = app_info()
    http.portal[ENDPOINT] = FakeResponse(200, {"result": {"result": {"admin": False}, "result_error": {
        "user": {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}}}})
    with pytest.raises(TransientError):
        Identity(oauth_mode(), db, http).verify(launch())
