"""Failures the seed program reports as ONE line on stderr with a distinct exit code.

Why distinct codes: the Job's status and a human reading ``kubectl logs`` should both be able to tell
"database not up yet" from "you asked for something refused by policy" without parsing prose.
"""

from __future__ import annotations


class SeedError(Exception):
    """Base: a clear, single-line message; ``exit_code`` is the process exit status."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # force one line whatever the source text was


class UsageError(SeedError):
    """Bad arguments or environment (unknown mode/module, malformed URL, missing parent)."""

    exit_code = 2


class UnreachableError(SeedError):
    """The database did not accept connections within SEED_CONNECT_TIMEOUT."""

    exit_code = 3


class CredentialsError(SeedError):
    """The server answered but refused the credentials (or the role/database does not exist)."""

    exit_code = 4


class SchemaVersionError(SeedError):
    """Parent schema older/newer than ours, target newer than ours, or a migration edited after use."""

    exit_code = 5


class PolicyRefusedError(SeedError):
    """masked-copy asked for while the project policy switch SEED_MASKED_COPY_ALLOWED is off."""

    exit_code = 6


class NotEmptyError(SeedError):
    """The target already holds business data and --reset was not given."""

    exit_code = 7
