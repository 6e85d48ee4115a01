"""Standard Webhooks signing: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SECRET_BYTES = 32
"""Random bytes in a new secret (Standard Webhooks asks for 24 to 64)."""
MIN_SECRET_BYTES = 24


@dataclass(frozen=True, slots=True)
class WebhookSecret:
    """`whsec_` + base64 of the key. Its repr never shows the key."""

    value: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.value.startswith(SECRET_PREFIX):
            raise ValueError("a webhook secret starts with whsec_")
        try:
            key = base64.b64decode(self.value.removeprefix(SECRET_PREFIX), validate=True)
        except binascii.Error as error:
            raise ValueError("a webhook secret is whsec_ + base64") from error
        if len(key) < MIN_SECRET_BYTES:
            raise ValueError(f"a webhook secret holds at least {MIN_SECRET_BYTES} bytes")

    @classmethod
    def generate(cls) -> WebhookSecret:
        key = secrets.token_bytes(SECRET_BYTES)
        return cls(SECRET_PREFIX + base64.b64encode(key).decode("ascii"))

    @property
    def key(self) -> bytes:
        return base64.b64decode(self.value.removeprefix(SECRET_PREFIX))

    def __repr__(self) -> str:
        return "WebhookSecret(***)"


def sign(secret: WebhookSecret, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of the message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(
    signing_secrets: Sequence[WebhookSecret], message_id: str, timestamp: int, body: bytes
) -> str:
    """The `webhook-signature` value: one signature per secret, space-separated (during a
    rotation the receiver may still hold the old secret)."""
    return " ".join(sign(s, message_id, timestamp, body) for s in signing_secrets)
