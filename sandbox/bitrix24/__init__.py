"""A local emulator of a Bitrix24 portal: REST API, OAuth server, launch form and sandbox controls."""
from .app import create_app

__all__ = ["create_app"]
