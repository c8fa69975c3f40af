"""Secrets users prove themselves with: passwords (argon2) and API tokens (random, looked up by digest,
compared in constant time)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


def new_token() -> tuple[str, str]:
    """A fresh 40-hex-character token and the digest it is looked up by."""
    token = secrets.token_hex(20)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(stored: str, presented: str) -> bool:
    return hmac.compare_digest(stored.encode(), presented.encode())


def password_hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


async def hash_password(hasher: PasswordHasher, password: str) -> str:
    return await asyncio.to_thread(hasher.hash, password)


async def password_matches(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return bool(hasher.verify(stored_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)
