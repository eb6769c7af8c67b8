"""Prints what to open once `make run` is up."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.config import load_settings  # noqa: E402

s = load_settings()
# gunicorn listens on WEB_HOST (127.0.0.1 by default); every address of this machine answers to 127.0.0.1.
web = f"127.0.0.1:{s.web_port}" if s.web_host in ("127.0.0.1", "0.0.0.0", "::", "localhost") else s.web_bind
print(f"""
  Telemost for Bitrix24 is starting. Open:
    App API and health   http://{web}{s.base_path}/health
    OpenAPI document     http://{web}{s.base_path}/api/openapi.json
    Flower (the queue)   http://127.0.0.1:{s.flower_port}/""")
if s.sandbox:
    print(f"""    Sandbox Bitrix24     http://127.0.0.1:{s.sandbox_bitrix24_port}/_sandbox/state
    Sandbox Telemost     http://127.0.0.1:{s.sandbox_telemost_port}/_sandbox/state
  SANDBOX is on: no real Bitrix24 or Yandex credentials are set, the two emulators stand in for them.""")
print("  Ctrl-C stops everything.\n")
