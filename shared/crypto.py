"""Tokens at rest are encrypted (DESIGN §5) with a key derived from SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class TokenBox:
    """Seals and opens secrets for the database; a changed SECRET_KEY makes old ones unreadable (None)."""

    def __init__(self, secret_key: str) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"telemost-bitrix tokens at rest"
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))
        self._digest_key = hashlib.sha256(b"telemost-bitrix digests" + secret_key.encode()).digest()

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str | None) -> str | None:
        if not sealed:
            return None
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None

    def digest(self, secret: str) -> str:
        """A keyed digest, for secrets that are only ever compared (the portal's application_token)."""
        return hmac.new(self._digest_key, secret.encode(), hashlib.sha256).hexdigest()

    def matches(self, secret: str, digest: str | None) -> bool:
        return digest is not None and hmac.compare_digest(self.digest(secret), digest)
