"""Users: password hashing (argon2), API tokens (random, looked up by digest, compared in constant time)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

USERNAME = re.compile(r"^[\w.@+-]{1,150}\Z")  # \Z: "bob\n" is no username
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")


@dataclass(frozen=True)
class User:
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    is_superuser: bool
    is_staff: bool
    is_active: bool
    last_login: datetime | None
    date_joined: datetime
    token: str = field(repr=False)
    password_hash: str = field(repr=False)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> User:
        return cls(
            id=row["id"],
            username=row["username"],
            email=row["email"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            is_superuser=row["is_superuser"],
            is_staff=row["is_staff"],
            is_active=row["is_active"],
            last_login=row["last_login"],
            date_joined=row["date_joined"],
            token=row["token"],
            password_hash=row["password"],
        )

    def public(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "is_superuser": self.is_superuser,
            "is_staff": self.is_staff,
            "is_active": self.is_active,
            "groups": [],
            "user_permissions": [],
            "last_login": self.last_login,
            "date_joined": self.date_joined,
        }


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
