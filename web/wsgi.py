"""gunicorn entry point: `gunicorn web.wsgi:app`. A bad setting stops the process with one line."""
import sys

from shared.config import SettingsError

from . import create_app

try:
    app = create_app()
except SettingsError as exc:
    sys.exit(f"telemost-bitrix-app: {exc}")
