"""gunicorn entry point: `gunicorn web.wsgi:app`. A bad setting stops the process with one line."""

import gc
import sys

from shared.config import SettingsError
from web import create_app

# gunicorn's master stops when a worker exits with this code, instead of starting it again forever.
WORKER_BOOT_ERROR = 3

try:
    app = create_app()
except SettingsError as exc:
    print(f"telemost-bitrix-app: {exc}", file=sys.stderr)
    sys.exit(WORKER_BOOT_ERROR)

# What the app loaded lives as long as the process: keep it out of the collector's full passes, which
# otherwise walk it all and stall a request by tens of milliseconds (bench/README.md, the list figure).
gc.freeze()
