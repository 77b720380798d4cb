"""Bearer tokens: issued once, stored only as an HMAC-SHA256 of the token under the pepper.

A leaked records database then yields no usable token, and a token cannot be checked
without the pepper (``SANDBOXES_TOKEN_PEPPER``), which lives outside the database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["TOKEN_PREFIX", "hash_token", "new_token"]

TOKEN_PREFIX = "sbx_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), token.encode(), hashlib.sha256).hexdigest()
