"""Local emulator of the Yandex Telemost REST API (reference/telemost-api.md)."""
from .app import create_app

__all__ = ["create_app"]
