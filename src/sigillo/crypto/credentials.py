"""The services' Credentials port, made of crypto/tokens.py's primitives."""

from __future__ import annotations

import hashlib

from sigillo.crypto import tokens

__all__ = ["TokenCredentials"]


class TokenCredentials:
    def issue_api_token(self) -> tuple[str, str, str]:
        issued = tokens.issue_api_token()
        return issued.key, issued.prefix, issued.hash

    def hash_api_token(self, key: str) -> str:
        return tokens.hash_api_token(key)

    def issue_invite_token(self) -> tuple[str, str]:
        token = tokens.issue_invite_token()
        return token, self.hash_invite_token(token)

    def hash_invite_token(self, token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()
