"""The services' Credentials and PasswordHasher ports, made of crypto's primitives."""

from __future__ import annotations

import hashlib

from sigillo.crypto import passwords, tokens

__all__ = ["Argon2Passwords", "TokenCredentials"]


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

    def issue_session_token(self) -> tuple[str, str]:
        token = tokens.issue_session_token()
        return token, tokens.hash_session_token(token)

    def hash_session_token(self, token: str) -> str:
        return tokens.hash_session_token(token)


class Argon2Passwords:
    """The services' PasswordHasher port, made of crypto/passwords.py."""

    def check_policy(self, password: str) -> None:
        passwords.check_password_policy(password)

    def hash(self, password: str) -> str:
        return passwords.hash_password(password)

    def verify(self, password: str, encoded: str) -> bool:
        return passwords.verify_password(password, encoded)

    def verify_dummy(self, password: str) -> bool:
        return passwords.verify_against_dummy(password)
