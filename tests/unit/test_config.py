import pytest

from shared.config import SettingsError, load_settings

BASE = {"SECRET_KEY": "a-secret-key-long-enough"}


def settings(**env):
    return load_settings({**BASE, **env}, env_file=None)


def test_sandbox_auto_is_on_without_real_credentials_and_points_at_the_emulators():
    s = settings(SANDBOX_TELEMOST_PORT="9001", SANDBOX_BITRIX24_PORT="9002")
    assert s.sandbox is True
    assert s.telemost_api_url == "http://127.0.0.1:9001/v1/telemost-api"
    assert s.bitrix24_oauth_url == "http://127.0.0.1:9002/oauth-server"
    assert s.bitrix24_webhook_url is None  # the sandbox portal installs the app and gives it OAuth tokens


def test_sandbox_auto_is_off_with_real_credentials():
    s = settings(BITRIX24_WEBHOOK_URL="https://acme.bitrix24.ru/rest/1/abc", YANDEX_OAUTH_TOKEN="y0_token")
    assert s.sandbox is False
    assert s.portal_base_url == "https://acme.bitrix24.ru"
    assert s.telemost_api_url == "https://cloud-api.yandex.net/v1/telemost-api"


def test_sandbox_on_overrides_urls_meant_for_the_real_services():
    s = settings(SANDBOX="on", TELEMOST_API_URL="https://cloud-api.yandex.net/v1/telemost-api")
    assert s.telemost_api_url.startswith("http://127.0.0.1:")


def test_database_url_wins_over_path_and_postgres_gets_the_psycopg_driver():
    assert settings(DATABASE_PATH="/tmp/x.db").database_url == "sqlite:////tmp/x.db"
    s = settings(DATABASE_PATH="/tmp/x.db", DATABASE_URL="postgresql://u:p@db/telemost")
    assert s.database_url == "postgresql+psycopg://u:p@db/telemost"


def test_script_name_is_the_older_name_of_base_path():
    assert settings(SCRIPT_NAME="/telemost/").base_path == "/telemost"
    assert settings(SCRIPT_NAME="/old", BASE_PATH="/new").base_path == "/new"


@pytest.mark.parametrize("env, named", [
    ({"SECRET_KEY": ""}, "SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"SANDBOX": "maybe"}, "SANDBOX"),
    ({"WEB_PORT": "http"}, "WEB_PORT"),
    ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"LOGGING_LEVEL": "LOUD"}, "LOGGING_LEVEL"),
    ({"HTTP_TIMEOUT_SECONDS": "11"}, "HTTP_TIMEOUT_SECONDS"),
    ({"SANDBOX": "off"}, "BITRIX24_WEBHOOK_URL"),
    ({"SANDBOX": "off", "BITRIX24_WEBHOOK_URL": "https://a.bitrix24.ru/rest/1/k/"}, "YANDEX_OAUTH_TOKEN"),
    ({"BITRIX24_WEBHOOK_URL": "https://a.bitrix24.ru/api/", "YANDEX_OAUTH_TOKEN": "t"}, "BITRIX24_WEBHOOK_URL"),
    ({"BITRIX24_CLIENT_ID": "local.1", "YANDEX_OAUTH_TOKEN": "t"}, "BITRIX24_CLIENT_SECRET"),
    ({"FLOWER_BASIC_AUTH": "admin"}, "FLOWER_BASIC_AUTH"),
])
def test_a_bad_setting_stops_with_one_line_naming_it(env, named):
    with pytest.raises(SettingsError) as error:
        settings(**env)
    message = str(error.value)
    assert named in message and "\n" not in message


def test_env_file_is_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=from-the-env-file-123\nWEB_PORT=7000\n")
    s = load_settings({"WEB_PORT": "7001"}, env_file=env_file)
    assert (s.secret_key, s.web_port) == ("from-the-env-file-123", 7001)
