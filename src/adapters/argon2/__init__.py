"""Password hashing with argon2id (argon2-cffi)."""

from adapters.argon2.password_hasher import Argon2PasswordHasher

__all__ = ["Argon2PasswordHasher"]
