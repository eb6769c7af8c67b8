"""python -m sandbox.bitrix24 --host 127.0.0.1 --port 8082"""
from __future__ import annotations

import argparse
import os

from .app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Bitrix24 portal emulator (REST, OAuth, /_sandbox/)")
    parser.add_argument("--host", default=os.environ.get("SANDBOX_BITRIX24_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_BITRIX24_PORT", "8082")))
    args = parser.parse_args()
    create_app().run(host=args.host, port=args.port, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
